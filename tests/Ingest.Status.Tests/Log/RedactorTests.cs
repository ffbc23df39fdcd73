namespace Ingest.Status.Tests.Log;

public sealed class RedactorTests
{
    [Theory]
    [InlineData("https://u:p@host/a.csv?sig=x#f", "https://host/a.csv")]
    [InlineData("https://bucket.s3.amazonaws.com/dir/f-000.csv.gz?X-Amz-Signature=abc", "https://bucket.s3.amazonaws.com/dir/f-000.csv.gz")]
    [InlineData("http://host:8080/a.csv", "http://host:8080/a.csv")]
    [InlineData("/data/f.csv", "/data/f.csv")]
    [InlineData("relative/f.csv", "relative/f.csv")]
    [InlineData("file:///data/f.csv?X-Amz-Signature=abc", "file:///data/f.csv")]
    [InlineData("file:///data/f.csv", "file:///data/f.csv")]
    [InlineData("/data/run#3.csv", "/data/run#3.csv")]
    [InlineData("/data/what?.csv", "/data/what?.csv")]
    [InlineData("ftp://x/y.csv?X-Amz-Signature=secret", "ftp://x/y.csv")] // ftp: has no query: Uri keeps '?...' in its path
    [InlineData("ftp://u:pw@x/y.csv?X-Amz-Signature=secret", "ftp://x/y.csv")]
    [InlineData("gs://bucket/y.csv?X-Goog-Signature=secret", "gs://bucket/y.csv")]
    [InlineData("s3://bucket/dir/bad#1.csv", "s3://bucket/dir/bad#1.csv")] // an object key holds '#' and '?' as characters
    [InlineData("s3://bucket/dir/a?v=1.csv", "s3://bucket/dir/a?v=1.csv")]
    [InlineData("s3://u:pw@bucket/dir/a.csv", "s3://bucket/dir/a.csv")]
    public void Url_loses_user_info_query_and_fragment_but_an_object_keeps_its_key(string url, string expected)
    {
        Assert.Equal(expected, Redactor.RedactUrl(url));
    }

    [Theory]
    [InlineData("Host=h;Password=hunter2;Database=d", "Host=h;Password=***;Database=d")]
    [InlineData("Host=h;Password=two words;Database=d", "Host=h;Password=***;Database=d")]
    [InlineData("Host=h; password = 'q;uoted' ;Database=d", "Host=h; password=*** ;Database=d")]
    [InlineData("Host=h;Database=d", "Host=h;Database=d")]
    public void Connection_string_loses_its_password(string connectionString, string expected)
    {
        Assert.Equal(expected, Redactor.RedactConnectionString(connectionString));
    }

    [Theory]
    [InlineData("Fetching url https://u:p@h/f.csv?s=1.")]
    [InlineData("Host=h;Password=x and postgres://a:b@h/db")]
    [InlineData("plain text without secrets")]
    public void Redacting_text_twice_changes_nothing_more(string text)
    {
        var once = Redactor.RedactText(text);

        Assert.Equal(once, Redactor.RedactText(once));
    }

    [Fact]
    public void Text_without_secrets_is_unchanged()
    {
        const string Line = "Finished batch job. Inserted: 999999999, Invalid: 0 (see https://host/path/file-000.csv).";

        Assert.Equal(Line, Redactor.RedactText(Line));
    }
}
