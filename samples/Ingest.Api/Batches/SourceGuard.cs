using System.Net;
using System.Net.Sockets;
using Ingest.Status;

namespace Ingest.Api.Batches;

/// <summary>
/// What the API lets a client make the server fetch: http(s) URLs (never a path or <c>file://</c> on the server),
/// objects of buckets the operator allows or of a role the caller names, and, unless <c>INGEST_ALLOW_PRIVATE_NETWORKS=true</c>, no host on loopback, link-local or private
/// networks (cloud metadata endpoints live there). Checked when the batch is submitted so the client gets a
/// 400 at once; the engine's own guard (SourceOptions) also checks each connection as it is made.
/// </summary>
internal sealed class SourceGuard(ApiSettings settings)
{
    public async Task CheckAsync(IReadOnlyList<string> urls, Ingest.Sources.S3.S3BatchSource? s3, CancellationToken cancellationToken)
    {
        // A caller's bucket is read with a role of the caller's; with this host's own credentials only where the
        // operator listed the bucket, or a caller could have the host read any bucket it can reach.
        if (s3 is { RoleArn: null } && !BucketAllowed(s3.Bucket))
        {
            throw ApiError.BadRequest(
                $"source.s3 names no role (credentials.RoleArn) for bucket '{s3.Bucket}': give the ARN of a role of yours that trusts this host (GET /v1/import/awsTrustPolicy), or ask the operator to list the bucket in INGEST_API_S3_BUCKETS.");
        }

        foreach (var url in urls)
        {
            if (url.StartsWith("s3://", StringComparison.OrdinalIgnoreCase))
            {
                var bucket = url["s3://".Length..].Split('/')[0];
                if (!BucketAllowed(bucket))
                {
                    throw ApiError.BadRequest(
                        $"Source {Redactor.RedactUrl(url)}: this host reads s3:// URLs only from the buckets in INGEST_API_S3_BUCKETS; give your bucket as source.s3 with a role of yours (credentials.RoleArn) instead.");
                }

                continue;
            }

            if (!Uri.TryCreate(url, UriKind.Absolute, out var uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
            {
                // Not even a URL may be a path with a pasted signature in its name: shown up to its '?' or '#'.
                var shown = Redactor.RedactUrl(url);
                if (shown.IndexOfAny(['?', '#']) is var cut and >= 0)
                {
                    shown = shown[..cut] + "...";
                }

                throw ApiError.BadRequest($"Source '{shown}' is not an http(s) URL; the API fetches only http and https URLs.");
            }

            if (settings.AllowPrivateNetworks)
            {
                continue;
            }

            IPAddress[] addresses;
            if (IPAddress.TryParse(uri.IdnHost, out var literal))
            {
                addresses = [literal];
            }
            else
            {
                try
                {
                    addresses = await Dns.GetHostAddressesAsync(uri.IdnHost, cancellationToken);
                }
                catch (SocketException)
                {
                    continue; // Not resolvable now: the fetch reports it (and is checked again when it connects).
                }
            }

            if (addresses.FirstOrDefault(IsPrivate) is { } blocked)
            {
                throw ApiError.BadRequest(
                    $"Source {Redactor.RedactUrl(url)} is on a loopback or private network ({blocked}), which this host does not fetch from. Set INGEST_ALLOW_PRIVATE_NETWORKS=true on the host to allow it.");
            }
        }
    }

    private bool BucketAllowed(string bucket) => settings.S3Buckets.Contains(bucket, StringComparer.Ordinal);

    internal static bool IsPrivate(IPAddress address)
    {
        if (address.IsIPv4MappedToIPv6)
        {
            address = address.MapToIPv4();
        }

        if (IPAddress.IsLoopback(address) || address.Equals(IPAddress.Any) || address.Equals(IPAddress.IPv6Any))
        {
            return true;
        }

        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            var first = address.GetAddressBytes()[0];
            return address.IsIPv6LinkLocal || address.IsIPv6SiteLocal || address.IsIPv6Multicast || (first & 0xFE) == 0xFC;
        }

        var b = address.GetAddressBytes();
        return b[0] == 10 || b[0] == 0 || b[0] >= 224
            || (b[0] == 172 && b[1] >= 16 && b[1] <= 31)
            || (b[0] == 192 && b[1] == 168)
            || (b[0] == 169 && b[1] == 254)
            || (b[0] == 100 && b[1] >= 64 && b[1] <= 127);
    }
}
