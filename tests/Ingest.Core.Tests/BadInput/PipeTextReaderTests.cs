using System.IO.Pipelines;
using System.Text;
using Ingest.Csv;

namespace Ingest.Core.Tests.BadInput;

public sealed class PipeTextReaderTests
{
    [Fact]
    public async Task Characters_outside_the_BMP_survive_one_char_reads()
    {
        const string Text = "a😀b,🌍\n";
        var pipe = new Pipe();
        await pipe.Writer.WriteAsync(Encoding.UTF8.GetBytes(Text));
        await pipe.Writer.CompleteAsync();
        using var reader = new PipeTextReader(pipe.Reader);

        var result = new StringBuilder();
        var one = new char[1];
        int read;
        while ((read = reader.Read(one, 0, 1)) > 0)
        {
            result.Append(one, 0, read);
        }

        Assert.Equal(Text, result.ToString());
    }
}
