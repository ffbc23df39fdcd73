namespace Ingest.Sources.S3;

/// <summary>
/// The check of a bucket name. AWS's rules (3 to 63 lowercase letters, digits, dots and hyphens) are relaxed to
/// what S3-compatible stores and legacy buckets also use (uppercase letters and underscores, up to 255), so the
/// check refuses what is surely not a bucket (a host with a port, user info, a path) and leaves the rest to the store.
/// </summary>
internal static class S3BucketName
{
    /// <summary>True for a plausible bucket name.</summary>
    public static bool IsValid(string name)
    {
        if (name.Length is < 3 or > 255 || !char.IsAsciiLetterOrDigit(name[0]) || !char.IsAsciiLetterOrDigit(name[^1]))
        {
            return false;
        }

        foreach (var c in name)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c is not ('.' or '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>Throws <see cref="ArgumentException"/> saying what a bucket name is, unless <paramref name="name"/> is one.</summary>
    public static void ThrowIfInvalid(string name, string paramName)
    {
        if (!IsValid(name))
        {
            // The name may be a pasted secret: it is shown only when it is short and free of separators.
            var shown = name.Length is > 0 and <= 63 && !name.AsSpan().ContainsAny(":@/?#") ? $" '{name}'" : string.Empty;
            throw new ArgumentException(
                $"The S3 bucket name{shown} is not valid: a bucket name is 3 to 63 letters, digits, dots or hyphens, starting and ending with a letter or digit.",
                paramName);
        }
    }
}
