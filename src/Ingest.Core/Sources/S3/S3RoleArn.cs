namespace Ingest.Sources.S3;

/// <summary>Checks an IAM role ARN and makes STS session names.</summary>
internal static class S3RoleArn
{
    /// <summary>The longest STS role session name.</summary>
    public const int MaxSessionNameLength = 64;

    /// <summary>True for <c>arn:&lt;partition&gt;:iam::&lt;account&gt;:role/&lt;name&gt;</c> (any partition: aws, aws-cn, aws-us-gov).</summary>
    public static bool IsValid(string arn)
    {
        var parts = arn.Split(':', 6);
        return parts.Length == 6 && parts[0] == "arn" && parts[1].Length > 0 && parts[2] == "iam"
            && parts[4].Length > 0 && parts[5].StartsWith("role/", StringComparison.Ordinal) && parts[5].Length > "role/".Length;
    }

    /// <summary>
    /// <paramref name="name"/> as an STS session name: characters outside <c>[\w+=,.@-]</c> become <c>-</c>, and it
    /// is cut to 64 characters (at least 2, as STS requires).
    /// </summary>
    public static string SessionName(string name)
    {
        var chars = new char[Math.Clamp(name.Length, 2, MaxSessionNameLength)];
        for (var i = 0; i < chars.Length; i++)
        {
            var c = i < name.Length ? name[i] : '-';
            chars[i] = char.IsAsciiLetterOrDigit(c) || c is '_' or '+' or '=' or ',' or '.' or '@' or '-' ? c : '-';
        }

        return new string(chars);
    }
}
