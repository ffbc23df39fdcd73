using Npgsql;

namespace Ingest.Status;

public sealed partial class PostgresStatusRecorder
{
    // Key of the transaction-level advisory lock that serializes schema creation between processes
    // ("IngestS1" in ASCII). CREATE ... IF NOT EXISTS alone is not safe under concurrency: two
    // sessions can both pass the existence check and one then fails on a catalog unique index.
    internal const long SchemaLockKey = 0x496E_6765_7374_5331;

    private const int SchemaAttempts = 5;

    private const string SchemaSql =
        """
        CREATE SCHEMA IF NOT EXISTS ingest;
        CREATE TABLE IF NOT EXISTS ingest.import_batch (
            id              uuid PRIMARY KEY,
            dataset_id      text NOT NULL,
            format          jsonb,
            source          jsonb,
            status          text NOT NULL,
            insert_count    bigint NOT NULL DEFAULT 0,
            invalid_count   bigint NOT NULL DEFAULT 0,
            log             text,
            added_at        timestamptz NOT NULL,
            updated_at      timestamptz NOT NULL,
            deleted_at      timestamptz,
            abort_requested boolean NOT NULL DEFAULT false,
            run             bigint NOT NULL DEFAULT 0
        );
        ALTER TABLE ingest.import_batch ADD COLUMN IF NOT EXISTS run bigint NOT NULL DEFAULT 0;
        CREATE TABLE IF NOT EXISTS ingest.import_batch_status (
            seq           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
            batch_id      uuid NOT NULL REFERENCES ingest.import_batch (id) ON DELETE CASCADE,
            status        text NOT NULL,
            insert_count  bigint NOT NULL,
            invalid_count bigint NOT NULL,
            log           text,
            updated_at    timestamptz NOT NULL
        );
        CREATE INDEX IF NOT EXISTS import_batch_status_batch_seq ON ingest.import_batch_status (batch_id, seq);
        """;

    /// <summary>
    /// True when the recorder's tables are there as this version uses them: the check of its schema's fast path, a
    /// boolean SQL expression the engine asks beside its own catalog check (one round trip for both at a run's start).
    /// </summary>
    internal const string SchemaPresentSql = """
        to_regclass('ingest.import_batch_status') IS NOT NULL
           AND EXISTS (SELECT 1 FROM pg_attribute WHERE attrelid = to_regclass('ingest.import_batch') AND attname = 'run' AND NOT attisdropped)
        """;

    private readonly SemaphoreSlim _schemaGate = new(1, 1);
    private volatile bool _schemaReady;

    /// <summary>
    /// Creates schema <c>ingest</c> and the recorder's tables if they are missing. Idempotent and safe
    /// when several processes start at once. Every other method calls it first (once per recorder),
    /// so calling it is only needed to fail early on a bad connection or missing rights.
    /// </summary>
    /// <param name="cancellationToken">Cancels the wait for the database.</param>
    public async Task EnsureSchemaAsync(CancellationToken cancellationToken = default)
    {
        if (_schemaReady)
        {
            return;
        }

        await _schemaGate.WaitAsync(cancellationToken).ConfigureAwait(false);
        try
        {
            for (var attempt = 1; !_schemaReady; attempt++)
            {
                try
                {
                    await CreateSchemaAsync(cancellationToken).ConfigureAwait(false);
                    _schemaReady = true;
                }
                catch (PostgresException e) when (attempt < SchemaAttempts && IsCatalogRace(e))
                {
                    // Someone without our lock (the engine's ledger also creates schema `ingest`) won a race.
                    await Task.Delay(TimeSpan.FromMilliseconds(20 * attempt), cancellationToken).ConfigureAwait(false);
                }
            }
        }
        finally
        {
            _schemaGate.Release();
        }
    }

    /// <summary>True when this recorder keeps its tables in the database of <paramref name="dataSource"/> (the same data source).</summary>
    internal bool Shares(NpgsqlDataSource dataSource) => ReferenceEquals(_dataSource, dataSource);

    /// <summary>Someone sharing the data source asked <see cref="SchemaPresentSql"/> and got true: no need to ask again.</summary>
    internal void SchemaFound() => _schemaReady = true;

    private static bool IsCatalogRace(PostgresException e) => e.SqlState is
        PostgresErrorCodes.UniqueViolation or PostgresErrorCodes.DuplicateTable or
        PostgresErrorCodes.DuplicateSchema or PostgresErrorCodes.DuplicateObject;

    private async Task CreateSchemaAsync(CancellationToken cancellationToken)
    {
        var connection = await _dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using var connectionScope = connection.ConfigureAwait(false);

        // Fast path without DDL: a user who may read and write the tables but not create them still works.
        var check = new NpgsqlCommand($"SELECT {SchemaPresentSql}", connection);
        await using (check.ConfigureAwait(false))
        {
            if (await check.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false) is true)
            {
                return;
            }
        }

        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using var transactionScope = transaction.ConfigureAwait(false);
        var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(@key)", connection, transaction);
        await using (lockCommand.ConfigureAwait(false))
        {
            lockCommand.Parameters.Add(new NpgsqlParameter<long>("key", SchemaLockKey));
            await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        var create = new NpgsqlCommand(SchemaSql, connection, transaction);
        await using (create.ConfigureAwait(false))
        {
            await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
        }

        await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
    }
}
