using System.Net;
using System.Net.Sockets;

namespace Ingest.Sources;

/// <summary>
/// The SSRF guard of <see cref="SourceOptions.AllowPrivateNetworks"/>: it resolves the host itself,
/// checks every address and connects only to an allowed one, so the check holds for the IP actually
/// connected to (no DNS rebinding window) and, being the handler's connect step, for every redirect hop.
/// </summary>
internal sealed class NetworkGuard
{
    // Order matters: the first match names the address.
    private static readonly (IPNetwork Network, string Kind)[] Denied =
    [
        (IPNetwork.Parse("0.0.0.0/8"), "an unspecified ('this network') address"),
        (IPNetwork.Parse("127.0.0.0/8"), "a loopback address"),
        (IPNetwork.Parse("10.0.0.0/8"), "a private address"),
        (IPNetwork.Parse("172.16.0.0/12"), "a private address"),
        (IPNetwork.Parse("192.168.0.0/16"), "a private address"),
        (IPNetwork.Parse("169.254.169.254/32"), "a link-local address (cloud metadata service)"),
        (IPNetwork.Parse("169.254.0.0/16"), "a link-local address"),
        (IPNetwork.Parse("100.64.0.0/10"), "a shared (carrier-grade NAT) address"),
        (IPNetwork.Parse("224.0.0.0/4"), "a multicast address"),
        (IPNetwork.Parse("240.0.0.0/4"), "a reserved or broadcast address"),
        (IPNetwork.Parse("::/128"), "an unspecified address"),
        (IPNetwork.Parse("::1/128"), "a loopback address"),
        (IPNetwork.Parse("::/96"), "an IPv4-compatible IPv6 address"),
        (IPNetwork.Parse("fc00::/7"), "a private (unique local) address"),
        (IPNetwork.Parse("fec0::/10"), "a private (site-local) address"),
        (IPNetwork.Parse("fe80::/10"), "a link-local address"),
        (IPNetwork.Parse("ff00::/8"), "a multicast address"),
    ];

    private static readonly IPNetwork Nat64 = IPNetwork.Parse("64:ff9b::/96");
    private static readonly IPNetwork SixToFour = IPNetwork.Parse("2002::/16");

    private readonly HashSet<string> _hosts = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<IPNetwork> _networks = [];

    /// <summary>Makes the guard; <paramref name="allowed"/> holds host names, IP addresses or CIDRs that are always allowed.</summary>
    public NetworkGuard(IReadOnlyList<string> allowed)
    {
        foreach (var entry in allowed)
        {
            if (TryParseNetwork(entry, out var network))
            {
                _networks.Add(network);
            }
            else
            {
                _hosts.Add(entry.Trim().TrimEnd('.'));
            }
        }
    }

    /// <summary>True when <paramref name="entry"/> is a host name, an IP address or a CIDR such as <c>10.1.0.0/16</c>.</summary>
    public static bool IsValidEntry(string? entry) =>
        !string.IsNullOrWhiteSpace(entry) && (TryParseNetwork(entry, out _) || Uri.CheckHostName(entry.Trim().TrimEnd('.')) == UriHostNameType.Dns);

    /// <summary>Why <paramref name="address"/> is denied (e.g. "a loopback address"), or null when it is public.</summary>
    public static string? DeniedKind(IPAddress address)
    {
        ArgumentNullException.ThrowIfNull(address);
        var embedded = EmbeddedIPv4(address);
        foreach (var (network, kind) in Denied)
        {
            if (network.Contains(address) || (embedded is not null && network.Contains(embedded)))
            {
                return kind;
            }
        }

        return null;
    }

    /// <summary>The connect step of the handler: resolve, check every address, connect to the first allowed one that answers.</summary>
    public async ValueTask<Stream> ConnectAsync(SocketsHttpConnectionContext context, CancellationToken cancellationToken)
    {
        var host = context.DnsEndPoint.Host.Trim('[', ']');
        var port = context.DnsEndPoint.Port;
        var addresses = IPAddress.TryParse(host, out var literal)
            ? [literal]
            : await Dns.GetHostAddressesAsync(host, cancellationToken).ConfigureAwait(false);
        var hostAllowed = _hosts.Contains(host.TrimEnd('.'));
        string? denied = null;
        Exception? lastError = null;
        foreach (var address in addresses)
        {
            var kind = hostAllowed || IsAllowListed(address) ? null : DeniedKind(address);
            if (kind is not null)
            {
                denied ??= literal is not null ? $"{host} is {kind}" : $"{host} resolves to {address}, {kind}";
                continue;
            }

            var socket = new Socket(address.AddressFamily, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
            try
            {
                await socket.ConnectAsync(new IPEndPoint(address, port), cancellationToken).ConfigureAwait(false);
                return new NetworkStream(socket, ownsSocket: true);
            }
            catch (SocketException ex)
            {
                socket.Dispose();
                lastError = ex;
            }
            catch
            {
                socket.Dispose();
                throw;
            }
        }

        if (lastError is not null)
        {
            throw lastError;
        }

        throw new SourceDeniedException(denied is null
            ? $"{host} resolves to no address"
            : $"{denied}; private networks are not allowed for this host (SourceOptions.AllowPrivateNetworks; allow it with SourceOptions.AllowedNetworks)");
    }

    private bool IsAllowListed(IPAddress address)
    {
        // An entry may be written in either form: 127.0.0.1 matches ::ffff:127.0.0.0/104 and the reverse.
        var embedded = address.AddressFamily == AddressFamily.InterNetwork ? address.MapToIPv6() : EmbeddedIPv4(address);
        foreach (var network in _networks)
        {
            if (network.Contains(address) || (embedded is not null && network.Contains(embedded)))
            {
                return true;
            }
        }

        return false;
    }

    // The IPv4 address inside an IPv4-mapped (::ffff:a.b.c.d), NAT64 (64:ff9b::a.b.c.d) or 6to4 (2002:aabb:ccdd::) address.
    private static IPAddress? EmbeddedIPv4(IPAddress address)
    {
        if (address.AddressFamily != AddressFamily.InterNetworkV6)
        {
            return null;
        }

        if (address.IsIPv4MappedToIPv6)
        {
            return address.MapToIPv4();
        }

        var bytes = address.GetAddressBytes();
        if (Nat64.Contains(address))
        {
            return new IPAddress(bytes.AsSpan(12, 4));
        }

        return SixToFour.Contains(address) ? new IPAddress(bytes.AsSpan(2, 4)) : null;
    }

    private static bool TryParseNetwork(string entry, out IPNetwork network)
    {
        entry = entry.Trim();
        if (IPNetwork.TryParse(entry, out network))
        {
            return true;
        }

        if (IPAddress.TryParse(entry.Trim('[', ']'), out var single))
        {
            network = new IPNetwork(single, single.AddressFamily == AddressFamily.InterNetwork ? 32 : 128);
            return true;
        }

        return false;
    }
}

/// <summary>A source whose host resolves only to addresses the <see cref="NetworkGuard"/> denies.</summary>
internal sealed class SourceDeniedException(string message) : Exception(message);
