using System.Runtime.CompilerServices;
using System.Text;

namespace Ingest.Validation;

/// <summary>
/// The values of one enum field, each with its UTF-8 bytes encoded once, looked up by a span of the CSV field
/// (ordinal, case-sensitive). A handful of values is a linear scan on length then characters (the length alone
/// usually tells them apart); more than <see cref="LinearScanLimit"/> use a dictionary, whose hashing of the span
/// only pays off for many values (FieldBenchmarks, 3 values: ~30 ns against ~50-60 ns a value, fetch included).
/// </summary>
internal sealed class EnumLookup
{
    /// <summary>Enums with at most this many values are scanned, not hashed.</summary>
    internal const int LinearScanLimit = 8;

    private readonly string[] _names;
    private readonly byte[][] _bytes;
    private readonly Dictionary<string, byte[]>.AlternateLookup<ReadOnlySpan<char>> _dictionary;
    private readonly bool _hashed;

    public EnumLookup(IReadOnlyList<string> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        var distinct = new Dictionary<string, byte[]>(StringComparer.Ordinal);
        foreach (var value in values)
        {
            distinct.TryAdd(value, Encoding.UTF8.GetBytes(value));
        }

        _names = [.. distinct.Keys];
        _bytes = [.. distinct.Values];
        _hashed = _names.Length > LinearScanLimit;
        _dictionary = distinct.GetAlternateLookup<ReadOnlySpan<char>>();
        foreach (var bytes in _bytes)
        {
            MaxBytes = Math.Max(MaxBytes, bytes.Length);
        }
    }

    /// <summary>The longest value in UTF-8 bytes.</summary>
    public int MaxBytes { get; }

    /// <summary>Finds <paramref name="value"/> and gives its UTF-8 bytes.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public bool TryGetValue(ReadOnlySpan<char> value, out byte[] bytes)
    {
        if (_hashed)
        {
            return _dictionary.TryGetValue(value, out bytes!);
        }

        var names = _names;
        for (var i = 0; i < names.Length; i++)
        {
            var name = names[i];
            if (name.Length == value.Length && value.SequenceEqual(name))
            {
                bytes = _bytes[i];
                return true;
            }
        }

        bytes = null!;
        return false;
    }
}
