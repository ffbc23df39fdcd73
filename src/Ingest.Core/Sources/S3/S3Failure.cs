using System.Globalization;
using System.Net;
using Amazon.Runtime;
using Amazon.SecurityToken;
using Ingest.Status;

namespace Ingest.Sources.S3;

/// <summary>
/// Sorts S3 answers and faults into "try again" and "final", and words the reason so it says what to fix. A
/// reason is made only of the bucket, error codes and status numbers, never of an SDK message or response body:
/// a store may echo the access key id or the string it signed (s3rver does).
/// </summary>
internal static class S3Failure
{
    private static readonly HashSet<string> RetryableCodes = new(StringComparer.Ordinal)
    {
        "SlowDown", "Throttling", "ThrottlingException", "RequestThrottled", "TooManyRequestsException",
        "RequestTimeout", "RequestTimeoutException", "InternalError", "ServiceUnavailable", "OperationAborted",
    };

    private static readonly HashSet<string> RefusedCredentialCodes = new(StringComparer.Ordinal)
    {
        "InvalidAccessKeyId", "SignatureDoesNotMatch", "ExpiredToken", "InvalidToken", "TokenRefreshRequired",
        "InvalidSecurity", "AuthorizationHeaderMalformed", "InvalidClientTokenId", "UnrecognizedClientException",
    };

    /// <summary>True for faults that may pass: 5xx, 408, 429, throttling codes, network faults and timeouts (not a cancellation by the caller).</summary>
    public static bool IsRetryable(Exception exception, CancellationToken cancellationToken)
    {
        if (exception is OperationCanceledException)
        {
            return !cancellationToken.IsCancellationRequested;
        }

        if (exception is AmazonServiceException service && (service.StatusCode != 0 || service.ErrorCode is not null))
        {
            var status = (int)service.StatusCode;
            return status >= 500 || service.StatusCode is HttpStatusCode.RequestTimeout or HttpStatusCode.TooManyRequests
                || (service.ErrorCode is { } code && RetryableCodes.Contains(code));
        }

        // A network fault, bare or wrapped by the SDK.
        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is AmazonServiceException { StatusCode: not 0 })
            {
                return false;
            }

            if (HttpFailure.IsTransient(inner))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>The reason of a fault that may pass, for a Retrying message or the last one's error.</summary>
    public static string Describe(Exception exception, TimeSpan headersTimeout)
    {
        if (exception is OperationCanceledException)
        {
            return string.Create(CultureInfo.InvariantCulture, $"no response within {headersTimeout.TotalSeconds:0.###} s");
        }

        if (exception is AmazonServiceException { StatusCode: not 0 } service)
        {
            return Code(service);
        }

        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (HttpFailure.IsTransient(inner))
            {
                return HttpFailure.Describe(inner);
            }
        }

        return "network error";
    }

    /// <summary>
    /// The reason of a final failure about <paramref name="bucket"/>, or null when <paramref name="exception"/> is not
    /// one S3 (or STS, or the credential chain) gave. <paramref name="listing"/> words the permission a listing needs.
    /// </summary>
    public static string? FinalReason(Exception exception, string bucket, bool listing)
    {
        var sts = Find<AmazonSecurityTokenServiceException>(exception);
        if (sts is not null)
        {
            return $"the role could not be assumed ({Code(sts)}): check that its trust policy lets this host's identity assume it (sts:AssumeRole, and sts:ExternalId when one is set), and the host's own credentials";
        }

        var service = Find<AmazonServiceException>(exception);
        if (service is null)
        {
            return exception is AmazonClientException client && Mentions(client, "credential")
                ? $"no AWS credentials were found to read bucket '{bucket}': set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, a profile (AWS_PROFILE), or run with a role attached"
                : null;
        }

        var code = service.ErrorCode;
        var permission = listing ? "s3:ListBucket" : "s3:GetObject";
        return code switch
        {
            "NoSuchKey" => "object not found",
            "NoSuchBucket" => $"bucket '{bucket}' does not exist: check its name, and the endpoint (AWS_ENDPOINT_URL) or region it is in",
            "AccessDenied" or "AllAccessDisabled" =>
                $"access denied to bucket '{bucket}' ({Code(service)}): check the credentials, and that the policy of the user or role allows {permission} on it",
            "PermanentRedirect" or "IllegalLocationConstraintException" =>
                $"bucket '{bucket}' is in another region ({Code(service)}): set AWS_REGION (or SourceOptions.S3.Region) to its region",
            "InvalidBucketName" => $"the store refused the bucket name '{bucket}' ({Code(service)})",
            _ when code is not null && RefusedCredentialCodes.Contains(code) =>
                $"the credentials were refused for bucket '{bucket}' ({Code(service)}): check the access key and secret (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY), the profile (AWS_PROFILE) or the role",
            _ when service.StatusCode == HttpStatusCode.Forbidden =>
                $"access denied to bucket '{bucket}' ({Code(service)}): check the credentials, and that the policy of the user or role allows {permission} on it",
            _ when service.StatusCode == HttpStatusCode.NotFound && !listing => "object not found",
            _ => $"bucket '{bucket}' answered {Code(service)}",
        };
    }

    /// <summary>
    /// The reason of another failure of the SDK's own (a bad configuration, say). Its message is the SDK's, not a
    /// store's answer, and is redacted as any message is; an answer's body is never shown.
    /// </summary>
    public static string ClientFailure(AmazonClientException exception) => $"the S3 client failed: {Redactor.RedactText(exception.Message)}";

    /// <summary>True when S3 answered 412 Precondition Failed: the object is no longer the version first read.</summary>
    public static bool IsPreconditionFailed(Exception exception) =>
        exception is AmazonServiceException { StatusCode: HttpStatusCode.PreconditionFailed } or AmazonServiceException { ErrorCode: "PreconditionFailed" };

    private static string Code(AmazonServiceException service) => service.ErrorCode is { Length: > 0 } code && IsWord(code)
        ? string.Create(CultureInfo.InvariantCulture, $"{code}, HTTP {(int)service.StatusCode}")
        : string.Create(CultureInfo.InvariantCulture, $"HTTP {(int)service.StatusCode}");

    // An error code is one word; anything else is not shown (it could be a body).
    private static bool IsWord(string code) => code.Length <= 64 && code.All(char.IsAsciiLetterOrDigit);

    private static bool Mentions(Exception exception, string word) =>
        exception.Message.Contains(word, StringComparison.OrdinalIgnoreCase);

    private static T? Find<T>(Exception exception)
        where T : Exception
    {
        for (var inner = exception; inner is not null; inner = inner.InnerException)
        {
            if (inner is T found)
            {
                return found;
            }
        }

        return null;
    }
}
