using System.Text.Json;

namespace Ingest.Status;

/// <summary>What both recorders do the same way: redaction, time precision, the abort log lines.</summary>
internal static class RecorderShared
{
    /// <summary>A new batch's first log lines, redacted; null when there are none.</summary>
    public static string? RedactLog(string? log) => string.IsNullOrEmpty(log) ? null : Redactor.RedactText(log);

    /// <summary>
    /// A copy of the source object with every string in <c>urls</c> passed through
    /// <see cref="Redactor.RedactUrl"/>: presigned signatures and user info are credentials and must
    /// not be kept in a store that anyone with status access can read.
    /// </summary>
    public static JsonElement? RedactSource(JsonElement? source) =>
        source is { ValueKind: JsonValueKind.Object } value ? Rewrite(value, []) : source?.Clone();

    /// <summary>A copy of the source object with <paramref name="urls"/> (redacted) added to its <c>urls</c>.</summary>
    public static JsonElement WithUrls(JsonElement? source, IReadOnlyList<string> urls) =>
        Rewrite(source is { ValueKind: JsonValueKind.Object } value ? value : null, urls);

    // The source object with every string of its urls array redacted, and added (redacted) at the array's end;
    // the array is made when there is none (replacing a urls that is not an array).
    private static JsonElement Rewrite(JsonElement? source, IReadOnlyList<string> added)
    {
        var buffer = new System.Buffers.ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            var wroteUrls = false;
            if (source is { } value)
            {
                foreach (var property in value.EnumerateObject())
                {
                    if (!property.NameEquals("urls"))
                    {
                        property.WriteTo(writer);
                    }
                    else if (property.Value.ValueKind == JsonValueKind.Array)
                    {
                        WriteUrls(writer, property.Value.EnumerateArray(), added);
                        wroteUrls = true;
                    }
                    else if (added.Count == 0)
                    {
                        property.WriteTo(writer);
                    }
                }
            }

            if (!wroteUrls && added.Count > 0)
            {
                WriteUrls(writer, [], added);
            }

            writer.WriteEndObject();
        }

        using var document = JsonDocument.Parse(buffer.WrittenMemory);
        return document.RootElement.Clone();
    }

    // The urls array: what it held (strings redacted, anything else as it was), then the added ones, redacted.
    private static void WriteUrls(Utf8JsonWriter writer, IEnumerable<JsonElement> existing, IReadOnlyList<string> added)
    {
        writer.WriteStartArray("urls");
        foreach (var item in existing)
        {
            if (item.ValueKind == JsonValueKind.String)
            {
                writer.WriteStringValue(Redactor.RedactUrl(item.GetString()!));
            }
            else
            {
                item.WriteTo(writer);
            }
        }

        foreach (var url in added)
        {
            writer.WriteStringValue(Redactor.RedactUrl(url));
        }

        writer.WriteEndArray();
    }

    /// <summary>
    /// The current UTC time cut to whole milliseconds: the JSON shows milliseconds, and PostgreSQL
    /// keeps microseconds, so cutting first makes what is stored equal to what is returned.
    /// </summary>
    public static DateTimeOffset Now(TimeProvider time) => TruncateToMilliseconds(time.GetUtcNow());

    /// <summary><paramref name="value"/> in UTC, cut to whole milliseconds.</summary>
    public static DateTimeOffset TruncateToMilliseconds(DateTimeOffset value)
    {
        var ticks = value.UtcTicks;
        return new DateTimeOffset(ticks - (ticks % TimeSpan.TicksPerMillisecond), TimeSpan.Zero);
    }

    /// <summary>
    /// A long run's snapshots are spaced out to this fraction (1/n) of its time so far: with the default 5 s interval,
    /// every 5 s for its first 100 s, then about 20 per tenfold of its time (about 140 in ten hours, not 7,200). Each
    /// snapshot holds the whole log so far, so a timeline at a fixed pace grows with the square of a long run's time.
    /// </summary>
    public const int SnapshotSpread = 20;

    /// <summary>How long after its previous snapshot a run that has been going for <paramref name="running"/> appends the next.</summary>
    public static TimeSpan SnapshotEvery(TimeSpan configured, TimeSpan running) =>
        running / SnapshotSpread > configured ? running / SnapshotSpread : configured;

    /// <summary>The log of a batch aborted before it started: its log so far plus the two abort lines.</summary>
    public static string AbortedLog(string? existing, TimeProvider time)
    {
        var log = new BatchLog(existing, time);
        log.Info("Received abort instruction");
        log.Info("Batch job aborted");
        return log.Text!;
    }

    /// <summary>What an abort request does to a batch in <paramref name="status"/>.</summary>
    public static AbortOutcome AbortOutcomeFor(BatchStatus status) => status switch
    {
        BatchStatus.Created => AbortOutcome.AbortedNow,
        BatchStatus.Started => AbortOutcome.Requested,
        BatchStatus.Aborted => AbortOutcome.AlreadyAborted,
        _ => AbortOutcome.AlreadyEnded,
    };

    public static InvalidOperationException DuplicateBatch(Guid id) =>
        new($"A batch with id {id} already exists. Use a new id, or resume the existing batch.");
}
