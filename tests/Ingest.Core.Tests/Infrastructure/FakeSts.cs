using System.Collections.Concurrent;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;

namespace Ingest.Core.Tests.Infrastructure;

/// <summary>
/// A stand-in for AWS STS on loopback (Kestrel) that answers AssumeRole, the one call Ingest makes, with the
/// temporary credentials it is given, or refuses it as AWS does (<c>403 AccessDenied</c>). It records each
/// request's form fields, so a test sees the role, the session name and the external id asked for.
/// </summary>
public sealed class FakeSts : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<IReadOnlyDictionary<string, string>> _requests = new();

    private FakeSts(WebApplication app) => _app = app;

    /// <summary>The server's root, e.g. <c>http://127.0.0.1:41234/</c>.</summary>
    public Uri Endpoint { get; private set; } = null!;

    /// <summary>The form fields of every request answered, in order.</summary>
    public IReadOnlyList<IReadOnlyDictionary<string, string>> Requests => [.. _requests];

    /// <summary>The temporary credentials handed out: key id, secret, session token. Default: s3rver's key.</summary>
    public (string AccessKeyId, string Secret, string Token) Issued { get; set; } = (S3rverServer.AccessKey, "assumed-secret-value", "assumed-token-value");

    /// <summary>True to refuse every AssumeRole with <c>403 AccessDenied</c>.</summary>
    public bool Refuse { get; set; }

    /// <summary>Starts the server on a free loopback port.</summary>
    public static async Task<FakeSts> StartAsync()
    {
        var builder = WebApplication.CreateSlimBuilder(new WebApplicationOptions { ContentRootPath = AppContext.BaseDirectory });
        builder.Logging.ClearProviders();
        builder.WebHost.ConfigureKestrel(options => options.Listen(IPAddress.Loopback, 0));
        var app = builder.Build();
        var sts = new FakeSts(app);
        app.Run(sts.ServeAsync);
        await app.StartAsync();
        var address = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        sts.Endpoint = new Uri(address.EndsWith('/') ? address : address + "/");
        return sts;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private async Task ServeAsync(HttpContext context)
    {
        var form = context.Request.HasFormContentType ? await context.Request.ReadFormAsync() : new FormCollection([]);
        _requests.Enqueue(form.ToDictionary(f => f.Key, f => f.Value.ToString(), StringComparer.Ordinal));
        context.Response.ContentType = "text/xml";
        if (Refuse || form["Action"] != "AssumeRole")
        {
            context.Response.StatusCode = StatusCodes.Status403Forbidden;
            await context.Response.WriteAsync("""
                <ErrorResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><Error><Type>Sender</Type><Code>AccessDenied</Code>
                <Message>User: arn:aws:iam::123456789012:user/host is not authorized to perform: sts:AssumeRole</Message></Error>
                <RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ErrorResponse>
                """);
            return;
        }

        var (key, secret, token) = Issued;
        await context.Response.WriteAsync($"""
            <AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>
            <Credentials><AccessKeyId>{key}</AccessKeyId><SecretAccessKey>{secret}</SecretAccessKey><SessionToken>{token}</SessionToken>
            <Expiration>{DateTime.UtcNow.AddHours(1):yyyy-MM-ddTHH:mm:ssZ}</Expiration></Credentials>
            <AssumedRoleUser><Arn>arn:aws:sts::123456789012:assumed-role/importer/{form["RoleSessionName"]}</Arn>
            <AssumedRoleId>AROA3XFRBF535PLBIFPI4:{form["RoleSessionName"]}</AssumedRoleId></AssumedRoleUser>
            </AssumeRoleResult><ResponseMetadata><RequestId>c6104cbe-af31-11e0-8154-cbc7ccf896c7</RequestId></ResponseMetadata></AssumeRoleResponse>
            """);
    }
}
