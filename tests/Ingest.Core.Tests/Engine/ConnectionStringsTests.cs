using Npgsql;

namespace Ingest.Core.Tests.Engine;

public sealed class ConnectionStringsTests
{
    [Fact]
    public void An_npgsql_connection_string_is_returned_as_it_is()
    {
        const string Text = "Host=db;Port=5433;Username=ingest;Password=secret";

        Assert.Same(Text, ConnectionStrings.Normalize(Text));
    }

    [Fact]
    public void A_uri_becomes_the_same_settings_with_percent_encoding_undone()
    {
        var text = ConnectionStrings.Normalize("postgresql://loader:p%40ss%3Aword@db.example.com:6432/my%20db?sslmode=verify-full&application_name=nightly&connect_timeout=7");
        var builder = new NpgsqlConnectionStringBuilder(text);

        Assert.Equal("db.example.com", builder.Host);
        Assert.Equal(6432, builder.Port);
        Assert.Equal("loader", builder.Username);
        Assert.Equal("p@ss:word", builder.Password);
        Assert.Equal("my db", builder.Database);
        Assert.Equal(SslMode.VerifyFull, builder.SslMode);
        Assert.Equal("nightly", builder.ApplicationName);
        Assert.Equal(7, builder.Timeout);
    }

    [Theory]
    [InlineData("postgres://[::1]:5433/db", "[::1]", 5433)]
    [InlineData("postgresql://h1:5432,h2:5433/db", "h1:5432,h2:5433", 5432)]
    [InlineData("postgresql:///db?host=%2Fvar%2Frun%2Fpostgresql", "/var/run/postgresql", 5432)]
    [InlineData("postgresql://localhost/db?host=/tmp&port=5999", "/tmp", 5999)]
    [InlineData("POSTGRESQL://db", "db", 5432)]
    public void Hosts_and_ports_take_every_form_libpq_allows(string uri, string host, int port)
    {
        var builder = new NpgsqlConnectionStringBuilder(ConnectionStrings.Normalize(uri));

        Assert.Equal(host, builder.Host);
        Assert.Equal(port, builder.Port);
    }

    [Theory]
    [InlineData("postgresql://u:hunter2@db/x?fancy=1", "parameter 'fancy' that Ingest does not know")]
    [InlineData("postgresql://app:hunter2/x@127.0.0.1:55432/postgres", "port is not a number")]
    [InlineData("postgresql://app:hun?ter2@127.0.0.1:55432/postgres", "percent-encode")]
    [InlineData("postgresql://app:hunter2?x@127.0.0.1/db", "percent-encode")]
    [InlineData("postgresql://app:hunter2%zz@127.0.0.1/db", "'%' not followed by two hex digits")]
    [InlineData("postgresql://u:hunter2@db:99999/x", "port '99999'")]
    [InlineData("postgresql://u:hunter2@db/x?sslmode=maybe", "sslmode 'maybe'")]
    [InlineData("postgresql://u:hunter2@db/x?sslmode", "'sslmode' has no value")]
    [InlineData("postgresql://u:hunter2@db/x?hunter2", "parameter that Ingest does not know")]
    [InlineData("postgresql://u:hunter2@[::1/x", "closing ']'")]
    public void A_bad_uri_says_what_to_fix_and_never_shows_the_password(string uri, string message)
    {
        var error = Assert.Throws<ArgumentException>(() => ConnectionStrings.Normalize(uri));

        Assert.Contains(message, error.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("hunter2", error.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("Host=db;Username=app;Password=p w", "Disable")]
    [InlineData("Host=db;Username=app;GSS Encryption Mode=Require", "Require")]
    [InlineData("Host=db;Username=app;gssencryptionmode=prefer", "Prefer")]
    public void A_short_lived_process_skips_gss_encryption_unless_the_string_asks_for_it(string given, string mode)
    {
        var tuned = new Npgsql.NpgsqlConnectionStringBuilder(ConnectionStrings.ForShortLivedProcess(given));

        Assert.Equal(mode, tuned.GssEncryptionMode.ToString());
        Assert.Equal("db", tuned.Host);
        Assert.Equal("app", tuned.Username);
    }
}
