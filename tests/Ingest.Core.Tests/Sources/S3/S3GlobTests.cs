using Ingest.Sources.S3;

namespace Ingest.Core.Tests.Sources.S3;

public sealed class S3GlobTests
{
    [Theory]
    // * stays within one segment
    [InlineData("*.csv", "a.csv", true)]
    [InlineData("*.csv", ".csv", true)]
    [InlineData("*.csv", "dir/a.csv", false)]
    [InlineData("data/*.csv", "data/a.csv", true)]
    [InlineData("data/*.csv", "data/x/a.csv", false)]
    [InlineData("data/*", "data/a.csv", true)]
    [InlineData("data/*", "data/x/a.csv", false)]
    [InlineData("data/file-*.csv.gz", "data/file-10.csv.gz", true)]
    [InlineData("data/file-*.csv.gz", "data/file-10.csv", false)]
    [InlineData("*/*.csv", "a/b.csv", true)]
    [InlineData("*/*.csv", "a/b/c.csv", false)]
    // ? is one character, never /
    [InlineData("file-?.csv", "file-1.csv", true)]
    [InlineData("file-?.csv", "file-10.csv", false)]
    [InlineData("file-?.csv", "file-.csv", false)]
    [InlineData("a?b", "a/b", false)]
    // **/ is zero or more folders
    [InlineData("**/*.csv", "a.csv", true)]
    [InlineData("**/*.csv", "x/a.csv", true)]
    [InlineData("**/*.csv", "x/y/z/a.csv", true)]
    [InlineData("**/*.csv", "x/y/z/a.csv.gz", false)]
    [InlineData("data/**/*.csv", "data/a.csv", true)]
    [InlineData("data/**/*.csv", "data/2024/01/a.csv", true)]
    [InlineData("data/**/*.csv", "other/data/a.csv", false)]
    [InlineData("data/**/*.csv", "data2/a.csv", false)]
    [InlineData("data/**/part/*.csv", "data/part/a.csv", true)]
    [InlineData("data/**/part/*.csv", "data/x/y/part/a.csv", true)]
    [InlineData("data/**/part/*.csv", "data/x/y/part/z/a.csv", false)]
    [InlineData("**/**/*.csv", "a/b/c.csv", true)]
    [InlineData("**/**/*.csv", "c.csv", true)]
    // a trailing ** is everything below
    [InlineData("data/**", "data/a.csv", true)]
    [InlineData("data/**", "data/x/y/a.csv", true)]
    [InlineData("data/**", "data2/a.csv", false)]
    [InlineData("**", "anything/at/all.csv", true)]
    // ** that is not a whole segment is a plain *
    [InlineData("data/a**.csv", "data/abc.csv", true)]
    [InlineData("data/a**.csv", "data/a/b.csv", false)]
    [InlineData("data/**.csv", "data/a.csv", true)]
    [InlineData("data/**.csv", "data/x/a.csv", false)]
    // everything else is literal and case-sensitive
    [InlineData("data/a.csv", "data/a.csv", true)]
    [InlineData("data/a.csv", "data/aXcsv", false)]
    [InlineData("data/[ab].csv", "data/[ab].csv", true)]
    [InlineData("data/[ab].csv", "data/a.csv", false)]
    [InlineData("data/(1)+$^.csv", "data/(1)+$^.csv", true)]
    [InlineData("Data/*.csv", "data/a.csv", false)]
    [InlineData("*.CSV", "a.csv", false)]
    public void A_glob_matches_as_a_shell_with_globstar_does(string glob, string key, bool matches)
    {
        Assert.Equal(matches, S3Glob.Compile(glob).IsMatch(key));
    }

    [Theory]
    [InlineData("data/2024/**/*.csv", "data/2024/")]
    [InlineData("data/file-?.csv", "data/file-")]
    [InlineData("**/*.csv", "")]
    [InlineData("data/a.csv", "data/a.csv")]
    public void The_literal_prefix_is_the_text_before_the_first_glob_character(string glob, string prefix)
    {
        Assert.Equal(prefix, S3Glob.Compile(glob).LiteralPrefix);
    }

    [Fact]
    public void A_literal_part_matches_as_written_even_with_glob_characters()
    {
        var glob = S3Glob.Compile("odd*name/", "**/*.csv");

        Assert.True(glob.IsMatch("odd*name/x/a.csv"));
        Assert.False(glob.IsMatch("oddXname/x/a.csv"));
        Assert.Equal("odd*name/", glob.LiteralPrefix);
    }

    [Fact]
    public void Many_globstars_against_a_long_key_match_without_blowing_up()
    {
        var glob = S3Glob.Compile(string.Concat(Enumerable.Repeat("**/", 30)) + "*x");
        var key = string.Concat(Enumerable.Repeat("a/", 200)) + "b";

        Assert.False(glob.IsMatch(key));
        Assert.True(glob.IsMatch(key + "x"));
    }
}
