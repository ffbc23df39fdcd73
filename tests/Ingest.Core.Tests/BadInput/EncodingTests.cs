using System.Text;
using Ingest.Core.Tests.Engine;
using Ingest.Schema;
using Ingest.Validation;

namespace Ingest.Core.Tests.BadInput;

/// <summary>
/// NUL characters and invalid UTF-8 through the engine. PostgreSQL text cannot hold NUL, so a NUL must
/// never reach COPY: it fails the row (or the schema), never the file. Invalid UTF-8 decodes to U+FFFD,
/// which no typed or enum value accepts, so it is a row error where mapped and ignored where not.
/// </summary>
public sealed class EncodingTests
{
    private const string Id = "3c1243c4-a532-4487-9662-5655a23dec3a";

    private static byte[] Bytes(params object[] parts) =>
        [.. parts.SelectMany(p => p as byte[] ?? Encoding.UTF8.GetBytes((string)p))];

    [SkippableFact]
    public async Task Nul_in_a_mapped_value_is_a_row_error_and_in_an_unmapped_column_is_ignored()
    {
        await using var f = await EngineFixture.CreateAsync();
        var file = f.WriteFile("nul.csv", string.Concat(
            $"{Id},0,1,2,,5,,cab\0bage,\n",            // 1: enum
            $"{Id},0,1,2,,5,,cabbage,\0\n",            // 2: signed number
            $"{Id}\0,0,1,2,,5,,,\n",                   // 3: uuid
            $"{Id},0,1,2,,5,10.0.0.1\0,,\n",           // 4: ip
            $"{Id},0,1,2,,5,,\"\0\",\n",               // 5: a quoted lone NUL in the enum
            $"{Id},0,1,2,,5,,cabbage,-1,un\0mapped\n", // 6: unmapped column: loads
            EngineFixture.Row(7)));

        var result = await f.ImportAsync([file]);

        await Outcome.FinishedAsync(f, result, inserted: 2, invalid: 5);
        Assert.Equal(
            [(1, "plantCultivar", RowErrorKind.NotInEnum), (2, "delta", RowErrorKind.NotParsable), (3, "entityId", RowErrorKind.NotParsable),
             (4, "plantIPv4", RowErrorKind.BadIPv4), (5, "plantCultivar", RowErrorKind.NotInEnum)],
            Outcome.Errors(result));
        Assert.StartsWith($"{file} line 1, field plantCultivar: 'cab\\0bage' is not one of the values", result.RowErrors[0].ToString(), StringComparison.Ordinal);
        Assert.DoesNotContain('\0', result.Log!);
    }

    [Fact]
    public void An_enum_value_holding_nul_is_refused_with_the_schema_so_it_can_never_reach_copy()
    {
        var error = Assert.Throws<SchemaException>(() => DatasetSchema.Parse("""
            { "name": "t", "dataDescription": { "metadataSchema": { "kind": { "type": "enum", "values": ["a\u0000b", "ok"] } } } }
            """));
        Assert.Contains("'kind'", error.Message, StringComparison.Ordinal);
        Assert.Contains("NUL", error.Message, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Invalid_utf8_becomes_U_FFFD_a_row_error_where_mapped_and_ignored_where_not()
    {
        await using var f = await EngineFixture.CreateAsync();
        var file = f.WriteBytes("latin1.csv", Bytes(
            $"{Id},0,1,2,,5,,cabb", new byte[] { 0xFF }, "age,\n",          // 1: enum
            $"{Id},0,1,2,,5,,cabbage,1", new byte[] { 0xC3 }, "\n",         // 2: signed number, truncated sequence
            $"{Id},0,1", new byte[] { 0xE9 }, ",2,,5,,,\n",                 // 3: longitude (a Latin-1 é)
            $"{Id},0,1,2,,5,,cabbage,-1,caf", new byte[] { 0xE9 }, "\n",    // 4: unmapped: loads
            $"{Id},0,1,2,,5,,cabbage,-1,", new byte[] { 0xED, 0xA0, 0x80 }, "\n", // 5: an encoded surrogate, unmapped: loads
            EngineFixture.Row(6).TrimEnd(), ",end", new byte[] { 0xF0, 0x9F })); // 6: cut 4-byte sequence at end of file, unmapped

        var result = await f.ImportAsync([file]);

        await Outcome.FinishedAsync(f, result, inserted: 3, invalid: 3);
        Assert.Equal(
            [(1, "plantCultivar", RowErrorKind.NotInEnum), (2, "delta", RowErrorKind.NotParsable), (3, "longitude", RowErrorKind.NotParsable)],
            Outcome.Errors(result));
        Assert.StartsWith($"{file} line 1, field plantCultivar: 'cabb\uFFFDage' is not one of the values", result.RowErrors[0].ToString(), StringComparison.Ordinal);
        Assert.Equal(["cabbage"], (await f.RowsAsync("""SELECT DISTINCT "plantCultivar" FROM plants""")).ToArray());
    }
}
