using System.Text;
using Ingest.Engine.Chunks;

namespace Ingest.Core.Tests.Chunks;

public sealed class ChunkPlannerTests : IDisposable
{
    private readonly string _folder = Directory.CreateTempSubdirectory("ingest-chunks-").FullName;

    [Fact]
    public void Chunks_start_where_records_start_never_inside_a_quoted_value_and_count_the_files_lines()
    {
        // Every record holds a quoted value with line ends in it, so a cut at a line end is wrong most of the time.
        var text = new StringBuilder();
        for (var i = 0; i < 2000; i++)
        {
            text.Append(i).Append(",\"a\nb\r\nc, \"\"q\"\"\",x\n");
        }

        var path = Write("quoted.csv", text.ToString());
        var bytes = File.ReadAllBytes(path);

        var chunks = ChunkPlanner.Plan(path, 3)!;

        Assert.Equal(3, chunks.Count);
        Assert.Equal(0, chunks[0].Start);
        Assert.Equal(bytes.Length, chunks[^1].End);
        for (var i = 0; i < chunks.Count; i++)
        {
            Assert.Equal(i, chunks[i].Index);
            Assert.True(chunks[i].Start < chunks[i].End);
            if (i > 0)
            {
                Assert.Equal(chunks[i - 1].End, chunks[i].Start);
                var record = Encoding.UTF8.GetString(bytes, (int)chunks[i].Start, 40);
                Assert.Matches(@"^\d+,""a\nb", record); // A record's first field, then its quoted value.
                Assert.Equal(1 + bytes.AsSpan(0, (int)chunks[i].Start).Count((byte)'\n'), chunks[i].FirstLine);
            }
        }
    }

    [Fact]
    public void A_file_ending_records_with_a_lone_carriage_return_is_not_cut()
    {
        var path = Write("cr.csv", string.Concat(Enumerable.Range(0, 5000).Select(i => $"{i},x\r")));

        Assert.Null(ChunkPlanner.Plan(path, 3));
    }

    [Fact]
    public void Crlf_line_ends_are_cut_after_the_newline_and_a_short_file_gives_fewer_chunks()
    {
        var path = Write("crlf.csv", string.Concat(Enumerable.Range(0, 3000).Select(i => $"{i},x\r\n")));
        var few = Write("few.csv", "1,a\n2,b\n");

        var chunks = ChunkPlanner.Plan(path, 4)!;

        Assert.Equal(4, chunks.Count);
        Assert.All(chunks.Skip(1), c => Assert.Equal((byte)'\n', File.ReadAllBytes(path)[c.Start - 1]));
        Assert.True(ChunkPlanner.Plan(few, 8) is not { Count: > 2 });
        Assert.Null(ChunkPlanner.Plan(path, 1));
    }

    private string Write(string name, string content)
    {
        var path = Path.Combine(_folder, name);
        File.WriteAllText(path, content);
        return path;
    }

    public void Dispose() => Directory.Delete(_folder, recursive: true);
}
