using System.Globalization;

namespace Ingest.Benchmarks;

/// <summary>
/// Reads a bench command's <c>--name [value]</c> arguments in order; every mistake is an
/// <see cref="ArgumentException"/> that says what to fix (Program prints it with the command's usage).
/// </summary>
internal sealed class ArgReader(IReadOnlyList<string> args)
{
    private int _index = -1;

    /// <summary>The argument at hand, e.g. <c>--rows</c>.</summary>
    public string Name => args[_index];

    public bool MoveNext() => ++_index < args.Count;

    /// <summary>Takes the value that follows <see cref="Name"/>.</summary>
    public string Value()
    {
        var name = Name;
        return ++_index < args.Count ? args[_index] : throw new ArgumentException($"{name} needs a value.");
    }

    public int PositiveInt()
    {
        var name = Name;
        return Positive(name, Value());
    }

    /// <summary>An integer of 0 or more, for counts where 0 turns something off.</summary>
    public int NonNegativeInt()
    {
        var name = Name;
        var text = Value();
        return int.TryParse(text, NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var value) && value >= 0
            ? value
            : throw new ArgumentException($"{name} takes an integer of 0 or more, not '{text}'.");
    }

    /// <summary>A comma-separated list such as <c>1,2,3</c>, duplicates dropped.</summary>
    public List<int> PositiveInts()
    {
        var name = Name;
        return [.. Value().Split(',').Select(s => Positive(name, s)).Distinct()];
    }

    public ArgumentException Unknown() => new($"Unknown argument '{Name}'.");

    /// <summary>The check every end-to-end command makes: each file needs at least one row.</summary>
    public static void CheckFilesAndRows(int files, int rows)
    {
        if (files > rows)
        {
            throw new ArgumentException("--files must not exceed --rows.");
        }
    }

    private static int Positive(string name, string text) =>
        int.TryParse(text, NumberStyles.AllowThousands, CultureInfo.InvariantCulture, out var value) && value > 0
            ? value
            : throw new ArgumentException($"{name} takes a positive integer, not '{text}'.");
}
