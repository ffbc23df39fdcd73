using System.Text;
using System.Text.RegularExpressions;

namespace Ingest.Sources.S3;

/// <summary>
/// Shell glob matching of object keys, with bash's globstar semantics: <c>*</c> matches any run of characters
/// within one path segment (never a <c>/</c>), <c>?</c> one character other than <c>/</c>, <c>**/</c> zero or more
/// whole folders, and a <c>**</c> that ends the pattern everything below. A <c>**</c> that is not a whole segment
/// (<c>a**b</c>) is a plain <c>*</c>, as in bash. Every other character, <c>[</c> included, matches itself, and
/// matching is case-sensitive, as keys are. Unlike bash, a name starting with a dot matches <c>*</c> (object
/// stores have no hidden files).
/// </summary>
internal sealed class S3Glob
{
    // Non-backtracking: a pattern comes from a user, and "**/**/**/..." must not make a match exponential.
    private const RegexOptions Options = RegexOptions.CultureInvariant | RegexOptions.NonBacktracking | RegexOptions.ExplicitCapture;

    private readonly Regex _regex;

    private S3Glob(string pattern, string literalPrefix, Regex regex)
    {
        Pattern = pattern;
        LiteralPrefix = literalPrefix;
        _regex = regex;
    }

    /// <summary>The pattern as given (a literal part first, when compiled with one).</summary>
    public string Pattern { get; }

    /// <summary>The literal text before the first glob character: every match starts with it.</summary>
    public string LiteralPrefix { get; }

    /// <summary>True when <paramref name="text"/> holds a glob character (<c>*</c> or <c>?</c>).</summary>
    public static bool HasGlob(ReadOnlySpan<char> text) => text.IndexOfAny('*', '?') >= 0;

    /// <summary>A glob matching <paramref name="literal"/> as written, then <paramref name="glob"/>.</summary>
    public static S3Glob Compile(string literal, string glob)
    {
        var builder = new StringBuilder("^").Append(Regex.Escape(literal));
        AppendGlob(builder, glob, atSegmentStart: literal.Length == 0 || literal[^1] == '/');
        var first = glob.AsSpan().IndexOfAny('*', '?');
        var prefix = literal + (first < 0 ? glob : glob[..first]);
        return new S3Glob(literal + glob, prefix, new Regex(builder.Append('$').ToString(), Options));
    }

    /// <summary>A glob for <paramref name="pattern"/>.</summary>
    public static S3Glob Compile(string pattern) => Compile(string.Empty, pattern);

    /// <summary>True when the whole of <paramref name="key"/> matches.</summary>
    public bool IsMatch(string key) => _regex.IsMatch(key);

    /// <inheritdoc/>
    public override string ToString() => Pattern;

    private static void AppendGlob(StringBuilder builder, string glob, bool atSegmentStart)
    {
        for (var i = 0; i < glob.Length; i++)
        {
            var c = glob[i];
            switch (c)
            {
                case '*':
                    var end = i;
                    while (end + 1 < glob.Length && glob[end + 1] == '*')
                    {
                        end++;
                    }

                    var globstar = end > i && atSegmentStart;
                    if (globstar && end + 1 == glob.Length)
                    {
                        builder.Append(".*"); // a trailing "**": everything below
                    }
                    else if (globstar && glob[end + 1] == '/')
                    {
                        builder.Append("([^/]*/)*"); // "**/": zero or more folders
                        end++;
                    }
                    else
                    {
                        builder.Append("[^/]*");
                    }

                    i = end;
                    atSegmentStart = glob[i] == '/';
                    continue;
                case '?':
                    builder.Append("[^/]");
                    break;
                default:
                    builder.Append(Regex.Escape(c.ToString()));
                    break;
            }

            atSegmentStart = c == '/';
        }
    }
}
