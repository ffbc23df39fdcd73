using System.Buffers.Binary;
using Ingest.Copy;
using Ingest.Schema;
using Ingest.Validation;

namespace Ingest.Core.Tests.Copy;

public sealed class RowEncoderTests
{
    internal const string Plants = """
        { "name": "plants", "dataDescription": { "metadataSchema": {
            "plantHeight":   { "type": "number", "nullable": false, "signed": false },
            "plantIPv4":     { "type": "ip",     "nullable": true },
            "plantCultivar": { "type": "enum",   "nullable": true, "values": ["broccoli", "brussel sprouts", "cabbage"] },
            "delta":         { "type": "number", "nullable": true, "signed": true } } } }
        """;

    internal const string PlantsFormat = """{"csv": {"entityId": 0, "timestamp": 1, "longitude": 2, "latitude": 3, "altitude": 4, "plantHeight": 5, "plantIPv4": 6, "plantCultivar": 7, "delta": 8}}""";

    private static RowEncoder Encoder() => new(DatasetSchema.Parse(Plants), CsvFormat.Parse(PlantsFormat));

    private static (int Written, int Column, RowErrorKind Kind, byte[] Bytes) Encode(params string[] fields)
    {
        var encoder = Encoder();
        var row = new ArrayRow(fields);
        var buffer = new byte[encoder.MaxRowBytes];
        var written = encoder.Encode(ref row, buffer, out var column, out var kind);
        return (written, column, kind, buffer);
    }

    [Fact]
    public void A_valid_row_encodes_every_column_in_binary_copy_form()
    {
        var (written, _, _, bytes) = Encode("3c1243c4-a532-4487-9662-5655a23dec3a", "946684800000", "4.5", "-50", "", "42", "10.0.0.1", "cabbage", "-7");
        Assert.True(written > 0);
        var span = bytes.AsSpan(0, written);
        Assert.Equal(10, BinaryPrimitives.ReadInt16BigEndian(span));
        Assert.Equal(16, BinaryPrimitives.ReadInt32BigEndian(span[2..]));
        Assert.Equal(Guid.Parse("3c1243c4-a532-4487-9662-5655a23dec3a").ToByteArray(bigEndian: true), span.Slice(6, 16).ToArray());
        Assert.Equal(8, BinaryPrimitives.ReadInt32BigEndian(span[22..]));
        Assert.Equal(0L, BinaryPrimitives.ReadInt64BigEndian(span[26..])); // 2000-01-01 is PostgreSQL's epoch
        Assert.Equal(4.5, BinaryPrimitives.ReadDoubleBigEndian(span[38..]));
        Assert.Equal(-50d, BinaryPrimitives.ReadDoubleBigEndian(span[50..]));
        Assert.Equal(-1, BinaryPrimitives.ReadInt32BigEndian(span[58..])); // altitude empty = NULL
        Assert.Equal(-1, BinaryPrimitives.ReadInt32BigEndian(span[62..])); // metadataId unmapped = NULL
        Assert.Equal(42L, BinaryPrimitives.ReadInt64BigEndian(span[70..])); // unsigned number is a bigint
        Assert.Equal(new byte[] { 2, 32, 0, 4, 10, 0, 0, 1 }, span.Slice(82, 8).ToArray());
        Assert.Equal(7, BinaryPrimitives.ReadInt32BigEndian(span[90..]));
        Assert.Equal("cabbage"u8.ToArray(), span.Slice(94, 7).ToArray());
        Assert.Equal(-7, BinaryPrimitives.ReadInt32BigEndian(span[105..]));
        Assert.Equal(109, written);
    }

    [Fact]
    public void A_row_with_every_column_at_its_largest_fills_exactly_MaxRowBytes()
    {
        // Every field mapped and non-null, the longest enum value: the tuple the unchecked writes are sized for.
        const string Schema = """
            { "name": "widest", "dataDescription": { "metadataSchema": {
                "u": { "type": "number", "nullable": false, "signed": false },
                "s": { "type": "number", "nullable": false, "signed": true },
                "ip": { "type": "ip", "nullable": false },
                "e": { "type": "enum", "nullable": false, "values": ["a", "é-longest-😀", "bb"] } } } }
            """;
        const string Format = """{"csv": {"entityId": 0, "timestamp": 1, "longitude": 2, "latitude": 3, "altitude": 4, "metadataId": 5, "u": 6, "s": 7, "ip": 8, "e": 9}}""";
        var encoder = new RowEncoder(DatasetSchema.Parse(Schema), CsvFormat.Parse(Format));
        var row = new ArrayRow(["3c1243c4-a532-4487-9662-5655a23dec3a", "2024-01-25T15:27:52.302Z", "180", "-90", "8848.86",
            "5655a23d-a532-4487-9662-3c1243c4ec3a", "4294967295", "-2147483648", "255.255.255.255", "é-longest-😀"]);
        var buffer = new byte[encoder.MaxRowBytes];

        var written = encoder.Encode(ref row, buffer, out var column, out _);

        Assert.Equal(-1, column);
        Assert.Equal(encoder.MaxRowBytes, written);
        Assert.Equal("é-longest-😀"u8.ToArray(), buffer.AsSpan(written - "é-longest-😀"u8.Length).ToArray());
    }

    [Fact]
    public void A_destination_shorter_than_MaxRowBytes_is_refused_before_any_write()
    {
        var encoder = Encoder();
        var row = new ArrayRow(["3c1243c4-a532-4487-9662-5655a23dec3a", "0", "1", "2", "", "5", "", "", ""]);
        var buffer = new byte[encoder.MaxRowBytes + 8];

        var error = Assert.Throws<ArgumentException>(() => encoder.Encode(ref row, buffer.AsSpan(0, encoder.MaxRowBytes - 1), out _, out _));

        Assert.Contains($"a row needs up to {encoder.MaxRowBytes}", error.Message, StringComparison.Ordinal);
        Assert.All(buffer, b => Assert.Equal(0, b));
    }

    [Theory]
    [InlineData(RowErrorKind.MissingColumn, "delta", "3c1243c4-a532-4487-9662-5655a23dec3a", "0", "1", "2", "", "5", "", "")]
    [InlineData(RowErrorKind.NotParsable, "entityId", "not-a-uuid", "0", "1", "2", "", "5", "", "", "")]
    [InlineData(RowErrorKind.NullNotAllowed, "timestamp", "3c1243c4-a532-4487-9662-5655a23dec3a", "", "1", "2", "", "5", "", "", "")]
    [InlineData(RowErrorKind.NotParsable, "timestamp", "3c1243c4-a532-4487-9662-5655a23dec3a", "soon", "1", "2", "", "5", "", "", "")]
    [InlineData(RowErrorKind.OutOfRange, "longitude", "3c1243c4-a532-4487-9662-5655a23dec3a", "0", "180.01", "2", "", "5", "", "", "")]
    [InlineData(RowErrorKind.OutOfRange, "latitude", "3c1243c4-a532-4487-9662-5655a23dec3a", "0", "1", "-90.5", "", "5", "", "", "")]
    [InlineData(RowErrorKind.NotParsable, "altitude", "3c1243c4-a532-4487-9662-5655a23dec3a", "0", "1", "2", "high", "5", "", "", "")]
    [InlineData(RowErrorKind.NullNotAllowed, "plantHeight", "3c1243c4-a532-4487-9662-5655a23dec3a", "0", "1", "2", "", "", "", "", "")]
    [InlineData(RowErrorKind.OutOfRange, "plantHeight", "3c1243c4-a532-4487-9662-5655a23dec3a", "0", "1", "2", "", "4294967296", "", "", "")]
    [InlineData(RowErrorKind.OutOfRange, "plantHeight", "3c1243c4-a532-4487-9662-5655a23dec3a", "0", "1", "2", "", "-1", "", "", "")]
    [InlineData(RowErrorKind.BadIPv4, "plantIPv4", "3c1243c4-a532-4487-9662-5655a23dec3a", "0", "1", "2", "", "5", "300.1.1.1", "", "")]
    [InlineData(RowErrorKind.NotInEnum, "plantCultivar", "3c1243c4-a532-4487-9662-5655a23dec3a", "0", "1", "2", "", "5", "", "kale", "")]
    [InlineData(RowErrorKind.NotInEnum, "plantCultivar", "3c1243c4-a532-4487-9662-5655a23dec3a", "0", "1", "2", "", "5", "", "Cabbage", "")]
    [InlineData(RowErrorKind.OutOfRange, "delta", "3c1243c4-a532-4487-9662-5655a23dec3a", "0", "1", "2", "", "5", "", "", "2147483648")]
    [InlineData(RowErrorKind.OutOfRange, "delta", "3c1243c4-a532-4487-9662-5655a23dec3a", "0", "1", "2", "", "5", "", "", "-99999999999999999999999")]
    [InlineData(RowErrorKind.NotParsable, "delta", "3c1243c4-a532-4487-9662-5655a23dec3a", "0", "1", "2", "", "5", "", "", "1.5")]
    public void Each_row_error_names_its_field_and_kind(RowErrorKind expected, string field, params string[] fields)
    {
        var encoder = Encoder();
        var (written, column, kind, _) = Encode(fields);
        Assert.Equal(-1, written);
        Assert.Equal(expected, kind);
        Assert.Equal(field, encoder.FieldAt(column).Name);
    }

    [Fact]
    public void Boundary_values_are_accepted()
    {
        Assert.True(Encode("3c1243c4-a532-4487-9662-5655a23dec3a", "0", "-180", "90", "", "4294967295", "", "brussel sprouts", "-2147483648").Written > 0);
        Assert.True(Encode("3c1243c4-a532-4487-9662-5655a23dec3a", "0", "180", "-90", "", "0", "", "", "2147483647").Written > 0);
    }

    [Fact]
    public void Encoding_allocates_nothing_per_row()
    {
        var encoder = Encoder();
        var row = new ArrayRow("3c1243c4-a532-4487-9662-5655a23dec3a", "2024-01-25T15:27:52.302Z", "4.5", "-50", "12.5", "42", "10.0.0.1", "brussel sprouts", "-7");
        var buffer = new byte[encoder.MaxRowBytes];

        // Warm-up lets tiered compilation settle, so what is measured is the steady state.
        for (var i = 0; i < 200_000; i++)
        {
            encoder.Encode(ref row, buffer, out _, out _);
        }

        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 1_000_000; i++)
        {
            encoder.Encode(ref row, buffer, out _, out _);
        }

        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated <= 64 * 1024, $"1M rows allocated {allocated} bytes");
    }

    internal struct ArrayRow(params string[] fields) : IRowSource
    {
        public readonly int FieldCount => fields.Length;

        public readonly ReadOnlySpan<char> GetField(int ordinal) => fields[ordinal];
    }
}
