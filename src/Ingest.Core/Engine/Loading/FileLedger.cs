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
        """;

    public static Task EnsureAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        Sql.EnsureAsync(dataSource, 1, "SELECT to_regclass('ingest.import_file') IS NOT NULL", CreateSql, cancellationToken);

    /// <summary>The loaded files of a batch with their counts.</summary>
    public static async Task<Dictionary<string, (long Inserted, long Invalid)>> LoadedAsync(NpgsqlDataSource dataSource, Guid batchId, CancellationToken cancellationToken)
    {
        var result = new Dictionary<string, (long, long)>(StringComparer.Ordinal);
        using var command = dataSource.CreateCommand("SELECT file_key, rows_inserted, rows_invalid FROM ingest.import_file WHERE batch_id = $1 AND state = $2");
        command.Parameters.AddWithValue(batchId);
        command.Parameters.AddWithValue(LoadedState);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                result[reader.GetString(0)] = (reader.GetInt64(1), reader.GetInt64(2));
            }
        }

        return result;
    }

    /// <summary>
    /// Claims the file inside the open transaction. False when the file is already loaded for the batch
    /// (possibly by another process that committed while this one waited on the row lock).
    /// </summary>
    public static bool TryClaim(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid batchId, string fileKey)
    {
        using var command = new NpgsqlCommand(
            "INSERT INTO ingest.import_file (batch_id, file_key, state) VALUES ($1, $2, 'loading') ON CONFLICT (batch_id, file_key) DO NOTHING",
            connection,
            transaction);
        command.Parameters.AddWithValue(batchId);
        command.Parameters.AddWithValue(fileKey);
        return command.ExecuteNonQuery() == 1;
    }

    /// <summary>Marks the claimed file loaded with its counts, in the same transaction as its rows.</summary>
    public static void MarkLoaded(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid batchId, string fileKey, long inserted, long invalid)
    {
        using var command = new NpgsqlCommand(
            "UPDATE ingest.import_file SET state = $3, rows_inserted = $4, rows_invalid = $5, loaded_at = now() WHERE batch_id = $1 AND file_key = $2",
            connection,
            transaction);
        command.Parameters.AddWithValue(batchId);
        command.Parameters.AddWithValue(fileKey);
        command.Parameters.AddWithValue(LoadedState);
        command.Parameters.AddWithValue(inserted);
        command.Parameters.AddWithValue(invalid);
        command.ExecuteNonQuery();
    }
}
