using System.Security.Cryptography;
using System.Text;

namespace Ingest.Api;

/// <summary>Every <c>/v1</c> request needs <c>Authorization: Bearer &lt;INGEST_API_TOKEN&gt;</c>; the OpenAPI document is open.</summary>
internal sealed class BearerToken(ApiSettings settings)
{
    private readonly byte[] _token = Encoding.UTF8.GetBytes(settings.Token);

    public async Task HandleAsync(HttpContext context, RequestDelegate next)
    {
        if (!context.Request.Path.StartsWithSegments("/v1", StringComparison.OrdinalIgnoreCase) || IsValid(context.Request.Headers.Authorization.ToString()))
        {
            await next(context);
            return;
        }

        context.Response.Headers.WWWAuthenticate = "Bearer";
        await ApiError.Result(
            StatusCodes.Status401Unauthorized,
            "Missing or wrong bearer token: send the header 'Authorization: Bearer <token>' with the host's INGEST_API_TOKEN.").ExecuteAsync(context);
    }

    private bool IsValid(string header)
    {
        const string scheme = "Bearer ";
        if (!header.StartsWith(scheme, StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        // Constant time, so response timing tells nothing about how much of a guess was right.
        return CryptographicOperations.FixedTimeEquals(Encoding.UTF8.GetBytes(header[scheme.Length..].Trim()), _token);
    }
}
