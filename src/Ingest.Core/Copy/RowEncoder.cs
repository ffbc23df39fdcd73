using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Ingest.Schema;
using Ingest.Validation;

namespace Ingest.Copy;

/// <summary>
/// Validates one CSV record against the dataset and encodes it as a PostgreSQL binary COPY tuple,
/// straight into a byte span: no string, boxing or allocation per row or value.
/// </summary>
internal sealed class RowEncoder
{
    private readonly ColumnPlan[] _plans;

    public RowEncoder(DatasetSchema schema, CsvFormat format)
    {
        ArgumentNullException.ThrowIfNull(schema);
        ArgumentNullException.ThrowIfNull(format);
        format.Validate(schema);
        _plans = new ColumnPlan[schema.Fields.Count];
        var max = 2;
        for (var i = 0; i < _plans.Length; i++)
        {
            var field = schema.Fields[i];
            _plans[i] = new ColumnPlan(field, format.Columns.TryGetValue(field.Name, out var column) ? column : -1);
            max += 4 + _plans[i].MaxValueBytes;
        }

        MaxRowBytes = max;
        Schema = schema;
    }

    public DatasetSchema Schema { get; }

    /// <summary>The most bytes one encoded tuple can take: a buffer with this much room always fits the next row.</summary>
    public int MaxRowBytes { get; }

    /// <summary>Number of table columns in each tuple.</summary>
    public int ColumnCount => _plans.Length;

    /// <summary>The field of table column <paramref name="index"/>.</summary>
    public DatasetField FieldAt(int index) => _plans[index].Field;

    /// <summary>The CSV column that feeds table column <paramref name="index"/> (-1 when unmapped).</summary>
    public int SourceAt(int index) => _plans[index].Source;

    /// <summary>
    /// Encodes the row into <paramref name="destination"/> (at least <see cref="MaxRowBytes"/> long).
    /// Returns the bytes written, or -1 when the row is invalid: then <paramref name="failedColumn"/> and
    /// <paramref name="kind"/> say which column failed and why (bytes written so far are garbage).
    /// </summary>
    /// <remarks>
    /// The length is checked once per row; the writes after it are unchecked, since no row can encode to
    /// more than <see cref="MaxRowBytes"/> (each column's largest value is in its <see cref="ColumnPlan.MaxValueBytes"/>).
    /// With per-write span slicing the method outgrew the JIT's inlining budget and called
    /// <c>Span.Slice</c> and <c>BinaryPrimitives</c> for every value (2-3% of the hot path).
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public int Encode<TRow>(ref TRow row, Span<byte> destination, out int failedColumn, out RowErrorKind kind)
        where TRow : struct, IRowSource
    {
        if (destination.Length < MaxRowBytes)
        {
            ThrowTooShort(destination.Length);
        }

        ref var tuple = ref MemoryMarshal.GetReference(destination);
        var plans = _plans;
        Unsafe.WriteUnaligned(ref tuple, BigEndian((short)plans.Length));
        var pos = 2;
        var fieldCount = row.FieldCount;
        for (var i = 0; i < plans.Length; i++)
        {
            var error = WriteColumn(in plans[i], ref row, fieldCount, ref tuple, ref pos);
            if (error != OkMarker)
            {
                return Fail(i, error, out failedColumn, out kind);
            }
        }

        failedColumn = -1;
        kind = default;
        return pos;
    }

    /// <summary>
    /// Why table column <paramref name="index"/> cannot take its value from the row; null when it can. Off the
    /// hot path: for reports that name every bad field of a row (a dry run), not only the first.
    /// </summary>
    /// <param name="row">The CSV row.</param>
    /// <param name="index">The table column.</param>
    /// <param name="scratch">At least <see cref="MaxRowBytes"/> long; its contents are garbage after.</param>
    public RowErrorKind? Check<TRow>(ref TRow row, int index, Span<byte> scratch)
        where TRow : struct, IRowSource
    {
        if (scratch.Length < MaxRowBytes)
        {
            ThrowTooShort(scratch.Length);
        }

        var pos = 0;
        var error = WriteColumn(in _plans[index], ref row, row.FieldCount, ref MemoryMarshal.GetReference(scratch), ref pos);
        return error == OkMarker ? null : error;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static RowErrorKind WriteColumn<TRow>(in ColumnPlan plan, ref TRow row, int fieldCount, ref byte tuple, ref int pos)
        where TRow : struct, IRowSource
    {
        if (plan.Source < 0)
        {
            WriteNull(ref tuple, ref pos);
            return OkMarker;
        }

        if (plan.Source >= fieldCount)
        {
            return RowErrorKind.MissingColumn;
        }

        var value = row.GetField(plan.Source);
        if (plan.Kind != FieldKind.Enum)
        {
            value = value.Trim();
        }

        if (value.IsEmpty)
        {
            if (!plan.Nullable)
            {
                return RowErrorKind.NullNotAllowed;
            }

            WriteNull(ref tuple, ref pos);
            return OkMarker;
        }

        return WriteValue(in plan, value, ref tuple, ref pos);
    }

    private const RowErrorKind OkMarker = (RowErrorKind)(-1);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static RowErrorKind WriteValue(in ColumnPlan plan, ReadOnlySpan<char> value, ref byte tuple, ref int pos)
    {
        switch (plan.Kind)
        {
            case FieldKind.Uuid:
                if (!ValueParsers.TryParseUuid(value, out var guid))
                {
                    return RowErrorKind.NotParsable;
                }

                WriteInt32(ref tuple, pos, 16);
                guid.TryWriteBytes(MemoryMarshal.CreateSpan(ref Unsafe.Add(ref tuple, pos + 4), 16), bigEndian: true, out _);
                pos += 20;
                return OkMarker;

            case FieldKind.Timestamp:
                if (!ValueParsers.TryParseTimestamp(value, out var micros))
                {
                    return RowErrorKind.NotParsable;
                }

                WriteInt64(ref tuple, ref pos, micros);
                return OkMarker;

            case FieldKind.Double:
                if (!ValueParsers.TryParseDouble(value, out var number))
                {
                    return RowErrorKind.NotParsable;
                }

                if (number < plan.Min || number > plan.Max)
                {
                    return RowErrorKind.OutOfRange;
                }

                WriteInt64(ref tuple, ref pos, BitConverter.DoubleToInt64Bits(number));
                return OkMarker;

            case FieldKind.SignedNumber:
            case FieldKind.UnsignedNumber:
                return WriteInteger(in plan, value, ref tuple, ref pos);

            case FieldKind.IPv4:
                if (!ValueParsers.TryParseIPv4(value, out var address))
                {
                    return RowErrorKind.BadIPv4;
                }

                // inet binary: family (PGSQL_AF_INET = 2), bits (32), is_cidr (0), address length (4), address.
                WriteInt32(ref tuple, pos, 8);
                WriteInt32(ref tuple, pos + 4, 0x02_20_00_04);
                WriteInt32(ref tuple, pos + 8, (int)address);
                pos += 12;
                return OkMarker;

            case FieldKind.Enum:
                if (!plan.EnumValues!.TryGetValue(value, out var bytes))
                {
                    return RowErrorKind.NotInEnum;
                }

                WriteInt32(ref tuple, pos, bytes.Length);
                Unsafe.CopyBlockUnaligned(ref Unsafe.Add(ref tuple, pos + 4), ref MemoryMarshal.GetArrayDataReference(bytes), (uint)bytes.Length);
                pos += 4 + bytes.Length;
                return OkMarker;

            default:
                return RowErrorKind.NotParsable;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static RowErrorKind WriteInteger(in ColumnPlan plan, ReadOnlySpan<char> value, ref byte tuple, ref int pos)
    {
        if (!ValueParsers.TryParseInteger(value, out var integer))
        {
            return ValueParsers.IsOverlongInteger(value) ? RowErrorKind.OutOfRange : RowErrorKind.NotParsable;
        }

        if (plan.Kind == FieldKind.SignedNumber)
        {
            if (integer is < int.MinValue or > int.MaxValue)
            {
                return RowErrorKind.OutOfRange;
            }

            WriteInt32(ref tuple, pos, 4);
            WriteInt32(ref tuple, pos + 4, (int)integer);
            pos += 8;
            return OkMarker;
        }

        if (integer is < 0 or > uint.MaxValue)
        {
            return RowErrorKind.OutOfRange;
        }

        WriteInt64(ref tuple, ref pos, integer);
        return OkMarker;
    }

    /// <summary>A length of 8, then the value: both big-endian.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteInt64(ref byte tuple, ref int pos, long value)
    {
        WriteInt32(ref tuple, pos, 8);
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref tuple, pos + 4), BigEndian(value));
        pos += 12;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteInt32(ref byte tuple, int pos, int value) =>
        Unsafe.WriteUnaligned(ref Unsafe.Add(ref tuple, pos), BigEndian(value));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void WriteNull(ref byte tuple, ref int pos)
    {
        WriteInt32(ref tuple, pos, -1);
        pos += 4;
    }

    private static short BigEndian(short value) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value;

    private static int BigEndian(int value) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value;

    private static long BigEndian(long value) => BitConverter.IsLittleEndian ? BinaryPrimitives.ReverseEndianness(value) : value;

    [DoesNotReturn]
    private void ThrowTooShort(int length) =>
        throw new ArgumentException($"The destination holds {length} bytes; a row needs up to {MaxRowBytes}.", "destination");

    private static int Fail(int column, RowErrorKind error, out int failedColumn, out RowErrorKind kind)
    {
        failedColumn = column;
        kind = error;
        return -1;
    }
}
