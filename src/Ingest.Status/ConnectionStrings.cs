using System.Globalization;
using Npgsql;

namespace Ingest;

/// <summary>Connection strings as users have them: Npgsql's <c>Key=Value;</c> form, or a libpq URI (<c>postgresql://...</c>).</summary>
public static class ConnectionStrings
{
    // libpq URI parameters and the Npgsql keywords they become.
    private static readonly Dictionary<string, string> Parameters = new(StringComparer.Ordinal)
    {
        ["host"] = "Host",
        ["hostaddr"] = "Host",
        ["port"] = "Port",
        ["user"] = "Username",
        ["password"] = "Password",
        ["dbname"] = "Database",
        ["sslmode"] = "SSL Mode",
        ["sslrootcert"] = "Root Certificate",
        ["sslcert"] = "SSL Certificate",
        ["sslkey"] = "SSL Key",
        ["sslpassword"] = "SSL Password",
        ["application_name"] = "Application Name",
        ["connect_timeout"] = "Timeout",
        ["options"] = "Options",
        ["target_session_attrs"] = "Target Session Attributes",
        ["keepalives_idle"] = "Tcp Keepalive Time",
    };

    private const string EncodeHint = "In a user name or password, percent-encode '/', '?', '@', ':' and '%' (e.g. %2F, %3F, %40, %3A, %25).";

    private static readonly Dictionary<string, string> SslModes = new(StringComparer.Ordinal)
    {
        ["disable"] = "Disable",
        ["allow"] = "Allow",
        ["prefer"] = "Prefer",
        ["require"] = "Require",
        ["verify-ca"] = "VerifyCA",
        ["verify-full"] = "VerifyFull",
    };

    /// <summary>
    /// An Npgsql connection string for <paramref name="connectionString"/>: a libpq URI
    /// (<c>postgresql://user:password@host:port/dbname?sslmode=require</c>, also <c>postgres://</c>, several
    /// <c>host:port</c> pairs, <c>[::1]</c>, percent-encoding, a Unix socket folder as <c>?host=/run/postgresql</c>)
    /// is converted; anything else is returned as it is, for Npgsql to read.
    /// </summary>
    /// <exception cref="ArgumentException">The URI is malformed or has a parameter Ingest does not know; the message names the part, never the password.</exception>
    public static string Normalize(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var text = connectionString.Trim();
        var scheme = text.StartsWith("postgresql://", StringComparison.OrdinalIgnoreCase) ? "postgresql://"
            : text.StartsWith("postgres://", StringComparison.OrdinalIgnoreCase) ? "postgres://"
            : null;
        return scheme is null ? connectionString : FromUri(text[scheme.Length..]);
    }

    /// <summary>
    /// <paramref name="connectionString"/> (Npgsql form) for a short-lived process such as the ingest CLI: unless the
    /// string says otherwise, sessions skip GSSAPI encryption negotiation (<c>GSS Encryption Mode=Disable</c>): trying
    /// it loads the Kerberos libraries before the first statement, about 100 ms of a fresh process's start here.
    /// Kerberos authentication still works; give <c>GSS Encryption Mode=Prefer</c> (or <c>Require</c>) to encrypt with it.
    /// </summary>
    public static string ForShortLivedProcess(string connectionString)
    {
        ArgumentNullException.ThrowIfNull(connectionString);
        var given = new System.Data.Common.DbConnectionStringBuilder { ConnectionString = connectionString };
        var keys = given.Keys.Cast<string>().Select(k => k.Replace(" ", string.Empty, StringComparison.Ordinal).ToUpperInvariant()).ToHashSet(StringComparer.Ordinal);
        var builder = new NpgsqlConnectionStringBuilder(connectionString);
        if (!keys.Contains("GSSENCRYPTIONMODE"))
        {
            builder.GssEncryptionMode = GssEncryptionMode.Disable;
        }

        return builder.ConnectionString;
    }

    private static string FromUri(string rest)
    {
        var builder = new NpgsqlConnectionStringBuilder();
        var query = string.Empty;
        var at = rest.IndexOfAny(['?']);
        if (at >= 0)
        {
            query = rest[(at + 1)..];
            rest = rest[..at];
        }

        var slash = rest.IndexOf('/', StringComparison.Ordinal);
        var authority = slash >= 0 ? rest[..slash] : rest;
        if (slash >= 0 && rest.Length > slash + 1)
        {
            builder.Database = Decode(rest[(slash + 1)..], "database name");
        }

        var userEnd = authority.LastIndexOf('@');
        if (userEnd >= 0)
        {
            var user = authority[..userEnd];
            authority = authority[(userEnd + 1)..];
            var colon = user.IndexOf(':', StringComparison.Ordinal);
            if (colon >= 0)
            {
                builder.Password = Decode(user[(colon + 1)..], "password");
                user = user[..colon];
            }

            if (user.Length > 0)
            {
                builder.Username = Decode(user, "user name");
            }
        }

        if (authority.Length > 0)
        {
            var hosts = authority.Split(',').Select(Host).ToList();
            if (hosts is [var (host, port)])
            {
                builder.Host = host;
                if (port is { } number)
                {
                    builder.Port = number;
                }
            }
            else
            {
                builder.Host = string.Join(',', hosts.Select(h => h.Port is { } number ? $"{h.Host}:{number}" : h.Host));
            }
        }

        foreach (var pair in query.Split('&', StringSplitOptions.RemoveEmptyEntries))
        {
            var equals = pair.IndexOf('=', StringComparison.Ordinal);
            var name = Decode(equals >= 0 ? pair[..equals] : pair, "parameter name");
            if (!Parameters.TryGetValue(name, out var keyword))
            {
                throw new ArgumentException(
                    $"The connection URI has a parameter{Shown(name, Keyword)} that Ingest does not know ({string.Join(", ", Parameters.Keys)}); use an Npgsql connection string (Key=Value;...) for other settings. {EncodeHint}");
            }

            if (equals < 0)
            {
                throw new ArgumentException($"The connection URI's parameter '{name}' has no value (write {name}=value).");
            }

            var value = Decode(pair[(equals + 1)..], $"value of {name}");
            if (name == "sslmode")
            {
                value = SslModes.TryGetValue(value, out var mode) ? mode
                    : throw new ArgumentException($"The connection URI's sslmode{Shown(value, Keyword)} is not one of {string.Join(", ", SslModes.Keys)}.");
            }

            builder[keyword] = value;
        }

        return builder.ConnectionString;
    }

    // One host[:port] of the authority: [v6]:port, name:port or name. A v6 address keeps its brackets.
    private static (string Host, int? Port) Host(string hostPort)
    {
        var host = hostPort;
        string? port = null;
        if (hostPort.StartsWith('['))
        {
            var close = hostPort.IndexOf(']', StringComparison.Ordinal);
            if (close < 0)
            {
                throw new ArgumentException($"The connection URI has an IPv6 host without its closing ']'. {EncodeHint}");
            }

            host = hostPort[1..close];
            port = close + 1 < hostPort.Length && hostPort[close + 1] == ':' ? hostPort[(close + 2)..] : null;
        }
        else if (hostPort.LastIndexOf(':') is var colon and >= 0)
        {
            host = hostPort[..colon];
            port = hostPort[(colon + 1)..];
        }

        host = Decode(host, "host");
        host = host.Contains(':', StringComparison.Ordinal) ? $"[{host}]" : host;
        if (string.IsNullOrEmpty(port))
        {
            return (host, null);
        }

        return int.TryParse(port, NumberStyles.None, CultureInfo.InvariantCulture, out var number) && number is >= 1 and <= 65535
            ? (host, number)
            : throw new ArgumentException($"The connection URI's port{Shown(port, char.IsAsciiDigit)} is not a number from 1 to 65535. {EncodeHint}");
    }

    private static string Decode(string value, string what)
    {
        for (var i = value.IndexOf('%', StringComparison.Ordinal); i >= 0; i = value.IndexOf('%', i + 1))
        {
            if (i + 2 >= value.Length || !Uri.IsHexDigit(value[i + 1]) || !Uri.IsHexDigit(value[i + 2]))
            {
                throw new ArgumentException($"The connection URI's {what} has a '%' not followed by two hex digits. {EncodeHint}");
            }
        }

        return Uri.UnescapeDataString(value);
    }

    // A part of the URI is echoed only when it looks like the keyword or number it should be: a password with a
    // raw '/', '?' or '@' spills into the other parts, and must never reach a message.
    private static string Shown(string value, Func<char, bool> allowed) =>
        value.Length is > 0 and <= 32 && value.All(allowed) ? $" '{value}'" : string.Empty;

    private static bool Keyword(char c) => char.IsAsciiLetterLower(c) || c is '_' or '-';
}
