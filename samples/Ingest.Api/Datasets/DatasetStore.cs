using System.Text.Json.Nodes;
using Npgsql;
using NpgsqlTypes;

namespace Ingest.Api.Datasets;

/// <summary>
/// Registered dataset documents (<c>ingest.dataset</c>) and which dataset each API batch loads (<c>ingest.api_batch</c>),
/// beside the recorder's tables. The engine names a batch's dataset by its table; the API answers with the id.
/// </summary>
internal sealed class DatasetStore(NpgsqlDataSource dataSource)
{
    /// <summary>A registered dataset: its id, table name and document (with <c>"id"</c>).</summary>
    public sealed record Dataset(Guid Id, string Name, JsonObject Document);

    public async Task EnsureSchemaAsync(CancellationToken cancellationToken)
    {
        await using var connection = await dataSource.OpenConnectionAsync(cancellationToken);
        await using var transaction = await connection.BeginTransactionAsync(cancellationToken);

        // Hosts starting together would race on CREATE ... IF NOT EXISTS; the lock makes it one at a time.
        await using var command = new NpgsqlCommand(
            """
            SELECT pg_advisory_xact_lock(hashtext('ingest.api schema'));
            CREATE SCHEMA IF NOT EXISTS ingest;
            CREATE TABLE IF NOT EXISTS ingest.dataset (
                id uuid PRIMARY KEY, name text NOT NULL, document jsonb NOT NULL, added_at timestamptz NOT NULL DEFAULT now());
            CREATE INDEX IF NOT EXISTS dataset_name ON ingest.dataset (name, added_at);
            -- jsonb orders an object's keys its own way; the document's text keeps the filter fields in the order given,
            -- which is the order of the dataset table's columns (datasets registered before this column keep jsonb's).
            ALTER TABLE ingest.dataset ADD COLUMN IF NOT EXISTS document_text text;
            CREATE TABLE IF NOT EXISTS ingest.api_batch (
                id uuid PRIMARY KEY, dataset_id uuid NOT NULL REFERENCES ingest.dataset (id), added_at timestamptz NOT NULL DEFAULT now());
            """,
            connection,
            transaction);
        await command.ExecuteNonQueryAsync(cancellationToken);
        await transaction.CommitAsync(cancellationToken);
    }

    public async Task<Dataset> AddAsync(string name, JsonObject document, CancellationToken cancellationToken)
    {
        var id = Guid.CreateVersion7();
        var stored = new JsonObject { ["id"] = id.ToString() };
        foreach (var (key, value) in document)
        {
            if (key != "id")
            {
                stored[key] = value?.DeepClone();
            }
        }

        var text = stored.ToJsonString();
        await using var command = dataSource.CreateCommand("INSERT INTO ingest.dataset (id, name, document, document_text) VALUES (@id, @name, @document, @text)");
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("name", name);
        command.Parameters.AddWithValue("document", NpgsqlDbType.Jsonb, text);
        command.Parameters.AddWithValue("text", text);
        await command.ExecuteNonQueryAsync(cancellationToken);
        return new Dataset(id, name, stored);
    }

    /// <summary>The dataset with id <paramref name="reference"/>, or (for SPEC-style requests) the newest one named so.</summary>
    public async Task<Dataset?> FindAsync(string reference, CancellationToken cancellationToken)
    {
        await using var command = Guid.TryParse(reference, out var id)
            ? dataSource.CreateCommand("SELECT id, name, coalesce(document_text, document::text) FROM ingest.dataset WHERE id = @id")
            : dataSource.CreateCommand("SELECT id, name, coalesce(document_text, document::text) FROM ingest.dataset WHERE name = @name ORDER BY added_at DESC LIMIT 1");
        command.Parameters.AddWithValue("id", id);
        command.Parameters.AddWithValue("name", reference);
        await using var reader = await command.ExecuteReaderAsync(cancellationToken);
        if (!await reader.ReadAsync(cancellationToken))
        {
            return null;
        }

        return new Dataset(reader.GetGuid(0), reader.GetString(1), JsonNode.Parse(reader.GetString(2))!.AsObject());
    }

    public async Task LinkBatchAsync(Guid batchId, Guid datasetId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("INSERT INTO ingest.api_batch (id, dataset_id) VALUES (@id, @dataset) ON CONFLICT (id) DO NOTHING");
        command.Parameters.AddWithValue("id", batchId);
        command.Parameters.AddWithValue("dataset", datasetId);
        await command.ExecuteNonQueryAsync(cancellationToken);
    }

    /// <summary>The dataset id of a batch made through the API, or <see langword="null"/> for one made elsewhere (e.g. the CLI).</summary>
    public async Task<Guid?> DatasetOfBatchAsync(Guid batchId, CancellationToken cancellationToken)
    {
        await using var command = dataSource.CreateCommand("SELECT dataset_id FROM ingest.api_batch WHERE id = @id");
        command.Parameters.AddWithValue("id", batchId);
        return await command.ExecuteScalarAsync(cancellationToken) as Guid?;
    }
}
