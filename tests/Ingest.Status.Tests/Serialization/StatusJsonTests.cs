using System.Text.Json;
using System.Text.RegularExpressions;

namespace Ingest.Status.Tests.Serialization;

public sealed partial class StatusJsonTests
{
    // The SPEC §3 example, written compactly.
    private const string SpecExample =
        """{"id":"3c1243c4-a532-4487-9662-5655a23dec3a","status":"finished","insertCount":999999999,"invalidCount":0,"log":"2024-01-25T15:27:52.302Z INFO Starting batch job\n2024-01-25T15:27:52.305Z INFO Connected to database 'ingest' at 127.0.0.1 with user 'postgres'\n2024-01-25T15:27:53.551Z INFO Finished batch job. Inserted: 999999999, Invalid: 0","updatedAt":"2024-01-25T15:27:53.552Z"}""";

    private static readonly Guid BatchId = Guid.Parse("3c1243c4-a532-4487-9662-5655a23dec3a");

    [Fact]
    public void Spec_example_round_trips_to_the_same_text()
    {
        var record = StatusJson.DeserializeStatus(SpecExample);

        Assert.Equal(BatchId, record.Id);
        Assert.Equal(BatchStatus.Finished, record.Status);
        Assert.Equal(999999999, record.InsertCount);
        Assert.Equal(new DateTimeOffset(2024, 1, 25, 15, 27, 53, 552, TimeSpan.Zero), record.UpdatedAt);
        Assert.Equal(SpecExample, StatusJson.Serialize(record));
    }

    [Fact]
    public void Status_record_properties_are_in_spec_order()
    {
        var json = StatusJson.Serialize(new StatusRecord(BatchId, BatchStatus.Started, 1, 2, "x", DateTimeOffset.UnixEpoch));

        using var document = JsonDocument.Parse(json);
        var names = document.RootElement.EnumerateObject().Select(p => p.Name);
        Assert.Equal(["id", "status", "insertCount", "invalidCount", "log", "updatedAt"], names);
    }

    [Fact]
    public void Created_record_writes_log_as_null()
    {
        var json = StatusJson.Serialize(new StatusRecord(BatchId, BatchStatus.Created, 0, 0, null, DateTimeOffset.UnixEpoch));

        Assert.Contains("\"log\":null", json, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(BatchStatus.Created, "created")]
    [InlineData(BatchStatus.Started, "started")]
    [InlineData(BatchStatus.Finished, "finished")]
    [InlineData(BatchStatus.Error, "error")]
    [InlineData(BatchStatus.Aborted, "aborted")]
    public void Status_is_written_as_its_lower_case_word(BatchStatus status, string word)
    {
        var json = StatusJson.Serialize(new StatusRecord(BatchId, status, 0, 0, null, DateTimeOffset.UnixEpoch));

        Assert.Contains($"\"status\":\"{word}\"", json, StringComparison.Ordinal);
        Assert.Equal(status, StatusJson.DeserializeStatus(json).Status);
    }

    [Fact]
    public void Times_are_utc_with_three_fraction_digits_and_z()
    {
        var local = new DateTimeOffset(2024, 1, 25, 17, 27, 53, TimeSpan.FromHours(2)).AddTicks(5_529_999);
        var json = StatusJson.Serialize(new StatusRecord(BatchId, BatchStatus.Started, 0, 0, null, local));

        Assert.Contains("\"updatedAt\":\"2024-01-25T15:27:53.552Z\"", json, StringComparison.Ordinal);
        var whole = StatusJson.Serialize(new StatusRecord(BatchId, BatchStatus.Started, 0, 0, null, DateTimeOffset.UnixEpoch));
        Assert.Matches(TimeProperty(), whole);
    }

    [Fact]
    public void Timeline_is_an_array_in_the_given_order()
    {
        IReadOnlyList<StatusRecord> timeline =
        [
            new(BatchId, BatchStatus.Finished, 5, 1, "b", DateTimeOffset.UnixEpoch.AddSeconds(2)),
            new(BatchId, BatchStatus.Created, 0, 0, null, DateTimeOffset.UnixEpoch),
        ];

        var json = StatusJson.Serialize(timeline);
        var back = StatusJson.DeserializeTimeline(json);

        Assert.StartsWith("[{\"id\":", json, StringComparison.Ordinal);
        Assert.Equal(timeline, back);
    }

    [Fact]
    public void Batch_record_has_spec_shape_and_round_trips()
    {
        using var format = JsonDocument.Parse("""{"csv":{"entityId":0,"timestamp":1}}""");
        using var source = JsonDocument.Parse("""{"urls":["https://host/a.csv"]}""");
        var batch = new BatchRecord
        {
            Id = BatchId,
            DatasetId = "plants",
            Format = format.RootElement.Clone(),
            Source = source.RootElement.Clone(),
            Status = BatchStatus.Created,
            AddedAt = new DateTimeOffset(2024, 1, 25, 15, 27, 52, 302, TimeSpan.Zero),
        };

        var json = StatusJson.Serialize(batch);

        Assert.Equal(
            """{"id":"3c1243c4-a532-4487-9662-5655a23dec3a","datasetId":"plants","format":{"csv":{"entityId":0,"timestamp":1}},"source":{"urls":["https://host/a.csv"]},"status":"created","insertCount":0,"invalidCount":0,"log":null,"addedAt":"2024-01-25T15:27:52.302Z","deletedAt":null}""",
            json);
        Assert.Equal(json, StatusJson.Serialize(StatusJson.DeserializeBatch(json)));
    }

    [Fact]
    public void Indented_output_reads_back_the_same()
    {
        var record = StatusJson.DeserializeStatus(SpecExample);

        var indented = StatusJson.Serialize(record, indented: true);

        Assert.Contains("\n  \"status\": \"finished\"", indented, StringComparison.Ordinal);
        Assert.Equal(SpecExample, StatusJson.Serialize(StatusJson.DeserializeStatus(indented)));
    }

    [Fact]
    public void Unknown_status_word_is_a_json_error()
    {
        var json = SpecExample.Replace("\"finished\"", "\"done\"", StringComparison.Ordinal);

        Assert.Throws<JsonException>(() => StatusJson.DeserializeStatus(json));
    }

    [GeneratedRegex("\"updatedAt\":\"\\d{4}-\\d\\d-\\d\\dT\\d\\d:\\d\\d:\\d\\d\\.\\d{3}Z\"")]
    private static partial Regex TimeProperty();
}
