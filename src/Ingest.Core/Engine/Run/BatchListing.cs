using Ingest.Copy;
using Npgsql;

namespace Ingest.Engine.Run;

/// <summary>
/// The objects each <c>s3://</c> pattern of a batch matched when the batch first started, or was submitted
/// (<c>ingest.import_listing</c>, beside the ledger): a resume loads the files the batch was listed with, not whatever
/// the bucket holds by then.
/// Object keys hold no secret (credentials come from the environment, never from a location).
/// </summary>
internal static class BatchListing
{
    private const string CreateSql = """
        CREATE SCHEMA IF NOT EXISTS ingest;
        CREATE TABLE IF NOT EXISTS ingest.import_listing (
            batch_id  uuid NOT NULL,
            pattern   text NOT NULL,
            position  integer NOT NULL,
            location  text NOT NULL,
            PRIMARY KEY (batch_id, pattern, position)
        );
        """;

    public static Task EnsureAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken) =>
        Sql.EnsureAsync(dataSource, 3, "SELECT to_regclass('ingest.import_listing') IS NOT NULL", CreateSql, cancellationToken);

    /// <summary>The stored listings of a batch, by pattern.</summary>
    public static async Task<Dictionary<string, List<string>>> LoadAsync(NpgsqlDataSource dataSource, Guid batchId, CancellationToken cancellationToken)
    {
        var listings = new Dictionary<string, List<string>>(StringComparer.Ordinal);
        using var command = dataSource.CreateCommand("SELECT pattern, location FROM ingest.import_listing WHERE batch_id = $1 ORDER BY pattern, position");
        command.Parameters.AddWithValue(batchId);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                var pattern = reader.GetString(0);
                if (!listings.TryGetValue(pattern, out var locations))
                {
                    listings[pattern] = locations = [];
                }

                locations.Add(reader.GetString(1));
            }
        }

        return listings;
    }

    private const string SaveSql =
        "INSERT INTO ingest.import_listing (batch_id, pattern, position, location) SELECT $1, $2, l.n, l.location FROM unnest($3::text[]) WITH ORDINALITY AS l(location, n) ON CONFLICT DO NOTHING";

    /// <summary>Keeps the objects <paramref name="pattern"/> matched for the batch, in their order (one statement).</summary>
    public static async Task SaveAsync(NpgsqlDataSource dataSource, Guid batchId, string pattern, IReadOnlyList<string> locations, CancellationToken cancellationToken)
    {
        using var command = dataSource.CreateCommand(SaveSql);
        await SaveAsync(command, batchId, pattern, locations, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Keeps the objects <paramref name="pattern"/> matched for the batch, in <paramref name="transaction"/> (a submit's, with its queue rows).</summary>
    public static async Task SaveAsync(NpgsqlConnection connection, NpgsqlTransaction transaction, Guid batchId, string pattern, IReadOnlyList<string> locations, CancellationToken cancellationToken)
    {
        using var command = new NpgsqlCommand(SaveSql, connection, transaction);
        await SaveAsync(command, batchId, pattern, locations, cancellationToken).ConfigureAwait(false);
    }

    private static async Task SaveAsync(NpgsqlCommand command, Guid batchId, string pattern, IReadOnlyList<string> locations, CancellationToken cancellationToken)
    {
        command.Parameters.AddWithValue(batchId);
        command.Parameters.AddWithValue(pattern);
        command.Parameters.AddWithValue(locations.ToArray());
        await command.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
    }
}
