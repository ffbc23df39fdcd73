using Ingest.Copy;
using Npgsql;

namespace Ingest.Engine.Loading;

/// <summary>
/// The ledger <c>ingest.import_file</c>: one row per loaded file of a batch, written in the same
/// transaction as the file's rows. Its primary key (batch, file key) is what makes a file load exactly
/// once: a second loader of the same file blocks on the first one's uncommitted row, then finds it.
/// </summary>
internal static class FileLedger
{
    public const string LoadedState = "loaded";

    private const string CreateSql = """
        CREATE SCHEMA IF NOT EXISTS ingest;
        CREATE TABLE IF NOT EXISTS ingest.import_file (
            batch_id uuid NOT NULL,
            file_key text NOT NULL,
            state text NOT NULL,
            rows_inserted bigint NOT NULL DEFAULT 0,
            rows_invalid bigint NOT NULL DEFAULT 0,
            loaded_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (batch_id, file_key)
        );
        CREATE TABLE IF NOT EXISTS ingest.import_chunk (
            batch_id uuid NOT NULL,
            file_key text NOT NULL,
            chunk integer NOT NULL,
            chunks integer NOT NULL,
            byte_start bigint NOT NULL,
            byte_end bigint NOT NULL,
            first_line bigint NOT NULL,
            state text NOT NULL,
            rows_inserted bigint NOT NULL DEFAULT 0,
            rows_invalid bigint NOT NULL DEFAULT 0,
            loaded_at timestamptz NOT NULL DEFAULT now(),
            PRIMARY KEY (batch_id, file_key, chunk)
        );
        """;

    public static Task EnsureAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        Sql.EnsureAsync(dataSource, 1, ExistsSql, CreateSql, cancellationToken);

    /// <summary>As <see cref="EnsureAsync(NpgsqlDataSource, CancellationToken)"/>, asking <paramref name="alsoAsk"/> in the same catalog query (see <see cref="Sql"/>).</summary>
    public static Task<bool> EnsureAsync(NpgsqlDataSource dataSource, string? alsoAsk, CancellationToken cancellationToken) =>
        Sql.EnsureAsync(dataSource, 1, ExistsSql, CreateSql, alsoAsk, cancellationToken);

    private const string ExistsSql = "SELECT to_regclass('ingest.import_file') IS NOT NULL AND to_regclass('ingest.import_chunk') IS NOT NULL";

    /// <summary>
    /// A batch's rows in the table, by the ledger: its loaded files, and the committed chunks of files not loaded whole
    /// yet (a crash between the chunks' commits leaves whole chunks only, and their rows are in the table).
    /// </summary>
    public static async Task<(long Inserted, long Invalid)> TotalsAsync(NpgsqlDataSource dataSource, Guid batchId, CancellationToken cancellationToken)
    {
        using var command = dataSource.CreateCommand(TotalsSql);
        command.Parameters.AddWithValue(batchId);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
            return (reader.GetInt64(0), reader.GetInt64(1));
        }
    }

    private const string TotalsSql = """
        SELECT coalesce(sum(rows_inserted), 0)::bigint, coalesce(sum(rows_invalid), 0)::bigint FROM (
            SELECT rows_inserted, rows_invalid FROM ingest.import_file WHERE batch_id = $1 AND state = 'loaded'
            UNION ALL
            SELECT c.rows_inserted, c.rows_invalid FROM ingest.import_chunk c
            WHERE c.batch_id = $1 AND c.state = 'loaded'
              AND NOT EXISTS (SELECT 1 FROM ingest.import_file f WHERE f.batch_id = c.batch_id AND f.file_key = c.file_key AND f.state = 'loaded')) t
        """;

    /// <summary>What the ledger holds of a batch: its loaded files, its totals and its partly loaded files' chunks.</summary>
    public sealed record State(Dictionary<string, (long Inserted, long Invalid)> Loaded, long Inserted, long Invalid, Dictionary<string, List<Chunks.Chunk>> Partial);

    /// <summary>
    /// The batch's loaded files (with their counts), its totals (<see cref="TotalsAsync"/>) and the committed chunks of its
    /// files not loaded whole yet, in one round trip: a run reads all three as it starts and as it ends, where each round
    /// trip is paid before the first row or after the last.
    /// </summary>
    public static async Task<State> ReadAsync(NpgsqlDataSource dataSource, Guid batchId, CancellationToken cancellationToken)
    {
        var batch = dataSource.CreateBatch();
        await using (batch.ConfigureAwait(false))
        {
            batch.BatchCommands.Add(new NpgsqlBatchCommand(LoadedSql) { Parameters = { new() { Value = batchId }, new() { Value = LoadedState } } });
            batch.BatchCommands.Add(new NpgsqlBatchCommand(TotalsSql) { Parameters = { new() { Value = batchId } } });
            batch.BatchCommands.Add(new NpgsqlBatchCommand(PartialSql) { Parameters = { new() { Value = batchId } } });
            var reader = await batch.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
            await using (reader.ConfigureAwait(false))
            {
                var loaded = await ReadLoadedAsync(reader, cancellationToken).ConfigureAwait(false);
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                await reader.ReadAsync(cancellationToken).ConfigureAwait(false);
                var (inserted, invalid) = (reader.GetInt64(0), reader.GetInt64(1));
                await reader.NextResultAsync(cancellationToken).ConfigureAwait(false);
                var partial = await ReadPartialAsync(reader, cancellationToken).ConfigureAwait(false);
                return new State(loaded, inserted, invalid, partial);
            }
        }
    }

    private const string PartialSql = """
        SELECT c.file_key, c.chunk, c.chunks, c.byte_start, c.byte_end, c.first_line FROM ingest.import_chunk c
        WHERE c.batch_id = $1 AND c.state = 'loaded'
          AND NOT EXISTS (SELECT 1 FROM ingest.import_file f WHERE f.batch_id = c.batch_id AND f.file_key = c.file_key AND f.state = 'loaded')
        ORDER BY c.file_key, c.chunk
        """;

    private static async Task<Dictionary<string, List<Chunks.Chunk>>> ReadPartialAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var chunks = new Dictionary<string, List<Chunks.Chunk>>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            var key = reader.GetString(0);
            if (!chunks.TryGetValue(key, out var list))
            {
                chunks[key] = list = [];
            }

            list.Add(new Chunks.Chunk(reader.GetInt32(1), reader.GetInt32(2), reader.GetInt64(3), reader.GetInt64(4), reader.GetInt64(5)));
        }

        return chunks;
    }

    /// <summary>
    /// Claims a chunk inside its open transaction; false when it is already loaded, or its whole file is (a second
    /// loader of the same chunk blocks on the first one's uncommitted row, then finds it).
    /// </summary>
    public static bool TryClaimChunk(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid batchId, string fileKey, Chunks.Chunk chunk)
    {
        using var command = new NpgsqlCommand(
            """
            INSERT INTO ingest.import_chunk (batch_id, file_key, chunk, chunks, byte_start, byte_end, first_line, state)
            SELECT $1, $2, $3, $4, $5, $6, $7, 'loading'
            WHERE NOT EXISTS (SELECT 1 FROM ingest.import_file WHERE batch_id = $1 AND file_key = $2 AND state = 'loaded')
            ON CONFLICT (batch_id, file_key, chunk) DO NOTHING
            """,
            connection,
            transaction);
        command.Parameters.AddWithValue(batchId);
        command.Parameters.AddWithValue(fileKey);
        command.Parameters.AddWithValue(chunk.Index);
        command.Parameters.AddWithValue(chunk.Count);
        command.Parameters.AddWithValue(chunk.Start);
        command.Parameters.AddWithValue(chunk.End);
        command.Parameters.AddWithValue(chunk.FirstLine);
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>
    /// Marks the claimed chunk loaded and, when it is the last of its file to commit, writes the file's own ledger row
    /// with the file's totals, all in the chunk's transaction. Chunks of a file settle this one after another (a
    /// transaction lock on the file), so the last one always sees the others committed.
    /// </summary>
    /// <returns>True when the file is now loaded whole.</returns>
    public static bool MarkChunkLoaded(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid batchId, string fileKey, Chunks.Chunk chunk, long inserted, long invalid)
    {
        using (var mark = new NpgsqlCommand(
            "UPDATE ingest.import_chunk SET state = 'loaded', rows_inserted = $4, rows_invalid = $5, loaded_at = now() WHERE batch_id = $1 AND file_key = $2 AND chunk = $3",
            connection,
            transaction))
        {
            mark.Parameters.AddWithValue(batchId);
            mark.Parameters.AddWithValue(fileKey);
            mark.Parameters.AddWithValue(chunk.Index);
            mark.Parameters.AddWithValue(inserted);
            mark.Parameters.AddWithValue(invalid);
            mark.ExecuteNonQuery();
        }

        using (var serialize = new NpgsqlCommand("SELECT pg_advisory_xact_lock(7355611, hashtext($1::text || $2))", connection, transaction))
        {
            serialize.Parameters.AddWithValue(batchId);
            serialize.Parameters.AddWithValue(fileKey);
            serialize.ExecuteNonQuery();
        }

        using var complete = new NpgsqlCommand(
            """
            INSERT INTO ingest.import_file (batch_id, file_key, state, rows_inserted, rows_invalid)
            SELECT $1, $2, 'loaded', sum(rows_inserted), sum(rows_invalid) FROM ingest.import_chunk
            WHERE batch_id = $1 AND file_key = $2 AND state = 'loaded'
            HAVING count(*) = $3
            ON CONFLICT (batch_id, file_key) DO NOTHING
            """,
            connection,
            transaction);
        complete.Parameters.AddWithValue(batchId);
        complete.Parameters.AddWithValue(fileKey);
        complete.Parameters.AddWithValue((long)chunk.Count);
        return complete.ExecuteNonQuery() == 1;
    }

    private const string LoadedSql = "SELECT file_key, rows_inserted, rows_invalid FROM ingest.import_file WHERE batch_id = $1 AND state = $2";

    private static async Task<Dictionary<string, (long Inserted, long Invalid)>> ReadLoadedAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
        {
            result[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
        }

        return result;
    }

    /// <summary>
    /// Claims files (one, or a group's) inside the open transaction, in one statement; returns the keys claimed now (the
    /// others are already loaded for the batch, possibly by another process that committed while this one waited on
    /// their rows: a second loader of a file blocks on the first one's uncommitted row, then finds it).
    /// </summary>
    public static HashSet<string> TryClaim(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid batchId, string[] fileKeys)
    {
        // One file binds a scalar, a group an array: the first array parameter of a process costs Npgsql about 5 ms of
        // type resolution (measured in a fresh native process), paid on the first file's way to its first row.
        using var command = new NpgsqlCommand(
            fileKeys.Length == 1
                ? "INSERT INTO ingest.import_file (batch_id, file_key, state) VALUES ($1, $2, 'loading') ON CONFLICT (batch_id, file_key) DO NOTHING RETURNING file_key"
                : """
                  INSERT INTO ingest.import_file (batch_id, file_key, state) SELECT $1, k, 'loading' FROM unnest($2::text[]) AS k
                  ON CONFLICT (batch_id, file_key) DO NOTHING RETURNING file_key
                  """,
            connection,
            transaction);
        command.Parameters.AddWithValue(batchId);
        AddOneOrMany(command, fileKeys);
        var claimed = new HashSet<string>(StringComparer.Ordinal);
        using var reader = command.ExecuteReader();
        while (reader.Read())
        {
            claimed.Add(reader.GetString(0));
        }

        return claimed;
    }

    /// <summary>Marks claimed files loaded with their counts, in one statement, in the same transaction as their rows.</summary>
    public static void MarkLoaded(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid batchId, string[] fileKeys, long[] inserted, long[] invalid)
    {
        using var command = new NpgsqlCommand(
            fileKeys.Length == 1
                ? "UPDATE ingest.import_file SET state = 'loaded', rows_inserted = $3, rows_invalid = $4, loaded_at = now() WHERE batch_id = $1 AND file_key = $2"
                : """
                  UPDATE ingest.import_file f SET state = 'loaded', rows_inserted = u.i, rows_invalid = u.v, loaded_at = now()
                  FROM unnest($2::text[], $3::bigint[], $4::bigint[]) AS u(k, i, v)
                  WHERE f.batch_id = $1 AND f.file_key = u.k
                  """,
            connection,
            transaction);
        command.Parameters.AddWithValue(batchId);
        AddOneOrMany(command, fileKeys);
        AddOneOrMany(command, inserted);
        AddOneOrMany(command, invalid);
        command.ExecuteNonQuery();
    }

    /// <summary>One file's value as a scalar, a group's as an array, as the statement chosen for their number takes them.</summary>
    private static void AddOneOrMany<T>(NpgsqlCommand command, T[] values)
        where T : notnull
    {
        if (values.Length == 1)
        {
            command.Parameters.AddWithValue(values[0]);
        }
        else
        {
            command.Parameters.AddWithValue(values);
        }
    }

    /// <summary>The counts of the loaded files among <paramref name="fileKeys"/>, summed, read in the open transaction.</summary>
    public static (long Inserted, long Invalid) CountsOf(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid batchId, string[] fileKeys)
    {
        using var command = new NpgsqlCommand(
            "SELECT coalesce(sum(rows_inserted), 0)::bigint, coalesce(sum(rows_invalid), 0)::bigint FROM ingest.import_file WHERE batch_id = $1 AND file_key = ANY($2) AND state = 'loaded'",
            connection,
            transaction);
        command.Parameters.AddWithValue(batchId);
        command.Parameters.AddWithValue(fileKeys);
        using var reader = command.ExecuteReader();
        reader.Read();
        return (reader.GetInt64(0), reader.GetInt64(1));
    }
}
