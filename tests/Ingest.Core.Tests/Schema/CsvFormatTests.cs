using Ingest.Schema;

namespace Ingest.Core.Tests.Schema;

public sealed class CsvFormatTests
{
    [Theory]
    [InlineData("""{"csv": {"entityId": 0, "timestamp": 1}}""")]
    [InlineData("""{"entityId": 0, "timestamp": 1}""")]
    public void The_mapping_is_read_wrapped_in_csv_or_alone(string json)
    {
        var format = CsvFormat.Parse(json);

        Assert.Equal("""{"csv":{"entityId":0,"timestamp":1}}""", format.ToJson());
    }

    [Fact]
    public void Another_format_kind_is_named_as_such_not_taken_for_a_field_of_a_bare_mapping()
    {
        var error = Assert.Throws<SchemaException>(() => CsvFormat.Parse("""{"parquet": {"entityId": 0}}"""));

        Assert.Equal("""The format is {"parquet": {...}}, which Ingest does not read: CSV is the only format; give {"csv": {"entityId": 0, "timestamp": 1, ...}}.""", error.Message);
    }

    [Fact]
    public void A_column_that_is_not_a_number_names_the_field()
    {
        var error = Assert.Throws<SchemaException>(() => CsvFormat.Parse("""{"csv": {"entityId": "zero"}}"""));

        Assert.Equal("""format.csv.entityId: expected a 0-based column number, found "zero".""", error.Message);
    }
}
