using System.Text;
using Ingest.Schema;
using Npgsql;

namespace Ingest.Copy;

/// <summary>
/// The dataset's table in PostgreSQL (SPEC §1): creates it when missing, checks an existing one
/// column by column, and gives the binary COPY command. Every identifier is quoted.
/// </summary>
internal sealed class TableLayout
{
    public TableLayout(DatasetSchema schema)
    {
        Schema = schema;
        QualifiedName = schema.TableSchema is null ? Sql.Quote(schema.TableName) : $"{Sql.Quote(schema.TableSchema)}.{Sql.Quote(schema.TableName)}";
        var columns = string.Join(", ", schema.Fields.Select(f => Sql.Quote(f.ColumnName)));
        CopyCommand = $"COPY {QualifiedName} ({columns}) FROM STDIN (FORMAT BINARY)";
    }

    public DatasetSchema Schema { get; }

    /// <summary>The quoted, schema-qualified table name.</summary>
    public string QualifiedName { get; }

    /// <summary>The binary COPY command for the table's columns in dataset order.</summary>
    public string CopyCommand { get; }

    public string CreateTableSql()
    {
        var sql = new StringBuilder();
        sql.Append("CREATE TABLE IF NOT EXISTS ").Append(QualifiedName).Append(" (");
        for (var i = 0; i < Schema.Fields.Count; i++)
        {
            var field = Schema.Fields[i];
            sql.Append(i == 0 ? string.Empty : ", ").Append(Sql.Quote(field.ColumnName)).Append(' ').Append(field.SqlType);
            if (!field.Nullable)
            {
                sql.Append(" NOT NULL");
            }
        }

        return sql.Append(')').ToString();
    }

    /// <summary>Creates the table if it is missing, then checks that its columns are the dataset's.</summary>
    /// <returns>Warnings for the batch's log: what is allowed but weakens the load's promises (an UNLOGGED table).</returns>
    /// <exception cref="SchemaException">The existing table does not match; the message lists each difference.</exception>
    public async Task<IReadOnlyList<string>> EnsureAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        IReadOnlyList<string> warnings = [];
        await Sql.RetryCreateRaceAsync(async () =>
        {
            var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
            await using (connection.ConfigureAwait(false))
            {
                // One catalog query in the usual case (the table is there); DDL, with its COMMIT, only when it is missing.
                var table = await ReadAsync(connection, cancellationToken).ConfigureAwait(false);
                if (table is null)
                {
                    Created = true;
                    await CreateAsync(connection, cancellationToken).ConfigureAwait(false);
                    table = await ReadAsync(connection, cancellationToken).ConfigureAwait(false)
                        ?? throw new InvalidOperationException($"Table {QualifiedName} was created but cannot be found.");
                }

                if (Mismatch(table.Value.Columns) is { } mismatch)
                {
                    throw new SchemaException(mismatch);
                }

                warnings = table.Value.Unlogged ? [UnloggedWarning()] : [];
                RowsMayWait = table.Value.IndexedOrTriggered && await RowsMayWaitAsync(connection, cancellationToken).ConfigureAwait(false);
            }
        }).ConfigureAwait(false);
        return warnings;
    }

    /// <summary>Set by <see cref="EnsureAsync"/>: the table was not there, and was made (empty) now.</summary>
    public bool Created { get; private set; }

    /// <summary>
    /// Set by <see cref="EnsureAsync"/>: the table has a unique or exclusion index, a foreign key or a trigger of its
    /// own, so a row inserted by one transaction can make another wait until the first commits (a duplicate key does).
    /// Chunks of one file that commit together must not wait on each other: such a table's files load whole.
    /// </summary>
    public bool RowsMayWait { get; private set; }

    private async Task<bool> RowsMayWaitAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        const string Query = """
            SELECT EXISTS (SELECT 1 FROM pg_index WHERE indrelid = to_regclass($1) AND (indisunique OR indisexclusion))
                OR EXISTS (SELECT 1 FROM pg_constraint WHERE conrelid = to_regclass($1) AND contype IN ('f', 'x'))
                OR EXISTS (SELECT 1 FROM pg_trigger WHERE tgrelid = to_regclass($1) AND NOT tgisinternal)
            """;
        using var command = new NpgsqlCommand(Query, connection);
        command.Parameters.AddWithValue(QualifiedName);
        return (bool)(await command.ExecuteScalarAsync(cancellationToken).ConfigureAwait(false))!;
    }

    private async Task CreateAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        var transaction = await connection.BeginTransactionAsync(cancellationToken).ConfigureAwait(false);
        await using (transaction.ConfigureAwait(false))
        {
            // Processes starting at once do not race on the catalogs.
            using (var lockCommand = new NpgsqlCommand("SELECT pg_advisory_xact_lock(hashtextextended($1, 7))", connection, transaction))
            {
                lockCommand.Parameters.AddWithValue(QualifiedName);
                await lockCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            if (Schema.TableSchema is not null)
            {
                using var schemaCommand = new NpgsqlCommand($"CREATE SCHEMA IF NOT EXISTS {Sql.Quote(Schema.TableSchema)}", connection, transaction);
                await schemaCommand.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            using (var create = new NpgsqlCommand(CreateTableSql(), connection, transaction))
            {
                await create.ExecuteNonQueryAsync(cancellationToken).ConfigureAwait(false);
            }

            await transaction.CommitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>
    /// An UNLOGGED table is emptied by PostgreSQL after a crash while the ledger (a logged table) still says
    /// its files were loaded, so resuming the batch would not load them again: the user must hear of it.
    /// </summary>
    private string UnloggedWarning() =>
        $"Table {QualifiedName} is UNLOGGED: a server crash empties it, while ingest.import_file still records its files as loaded, " +
        $"so a resumed batch would not load them again. Run ALTER TABLE {QualifiedName} SET LOGGED for a durable import.";

    /// <summary>
    /// Why the table, if it exists, cannot take the dataset's rows; null when it matches or does not exist yet.
    /// Reads the catalog only: for a dry run, which must write nothing.
    /// </summary>
    public async Task<string?> MismatchAsync(NpgsqlDataSource dataSource, CancellationToken cancellationToken)
    {
        var connection = await dataSource.OpenConnectionAsync(cancellationToken).ConfigureAwait(false);
        await using (connection.ConfigureAwait(false))
        {
            return await MismatchAsync(connection, cancellationToken).ConfigureAwait(false);
        }
    }

    private async Task<string?> MismatchAsync(NpgsqlConnection connection, CancellationToken cancellationToken) =>
        await ReadAsync(connection, cancellationToken).ConfigureAwait(false) is { } table ? Mismatch(table.Columns) : null; // Not there yet: a load creates it.

    /// <summary>
    /// The table's columns, whether it is UNLOGGED and whether it has any index or trigger (a foreign key's included), in
    /// one catalog query; null when there is no such table.
    /// </summary>
    private async Task<(Dictionary<string, (string Type, bool NotNull, bool HasDefault)> Columns, bool Unlogged, bool IndexedOrTriggered)?> ReadAsync(NpgsqlConnection connection, CancellationToken cancellationToken)
    {
        const string Query = """
            SELECT c.relpersistence = 'u', a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
                   a.atthasdef OR a.attidentity <> '' OR a.attgenerated <> '', c.relhasindex OR c.relhastriggers
            FROM pg_class c
            LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
            WHERE c.oid = to_regclass($1)
            """;
        var columns = new Dictionary<string, (string Type, bool NotNull, bool HasDefault)>(StringComparer.Ordinal);
        var exists = false;
        var unlogged = false;
        var indexedOrTriggered = false;
        using var command = new NpgsqlCommand(Query, connection);
        command.Parameters.AddWithValue(QualifiedName);
        var reader = await command.ExecuteReaderAsync(cancellationToken).ConfigureAwait(false);
        await using (reader.ConfigureAwait(false))
        {
            while (await reader.ReadAsync(cancellationToken).ConfigureAwait(false))
            {
                exists = true;
                unlogged = reader.GetBoolean(0);
                indexedOrTriggered = reader.GetBoolean(5);
                if (!reader.IsDBNull(1))
                {
                    columns[reader.GetString(1)] = (reader.GetString(2), reader.GetBoolean(3), reader.GetBoolean(4));
                }
            }
        }

        return exists ? (columns, unlogged, indexedOrTriggered) : null;
    }

    private string? Mismatch(Dictionary<string, (string Type, bool NotNull, bool HasDefault)> actual)
    {
        var problems = new List<string>();
        foreach (var field in Schema.Fields)
        {
            if (!actual.Remove(field.ColumnName, out var column))
            {
                problems.Add($"column \"{field.ColumnName}\" is missing (expected {field.SqlType}{(field.Nullable ? string.Empty : " not null")})");
                continue;
            }

            if (column.Type != field.SqlType)
            {
                problems.Add($"column \"{field.ColumnName}\" is {column.Type}, expected {field.SqlType}");
            }

            if (column.NotNull != !field.Nullable)
            {
                problems.Add($"column \"{field.ColumnName}\" is {(column.NotNull ? "not null" : "nullable")}, expected {(field.Nullable ? "nullable" : "not null")}");
            }
        }

        foreach (var (name, column) in actual)
        {
            if (column.NotNull && !column.HasDefault)
            {
                problems.Add($"column \"{name}\" is not in the dataset, and is not null without a default, so no row could be loaded");
            }
        }

        return problems.Count == 0
            ? null
            : $"Table {QualifiedName} exists but does not match dataset '{Schema.Name}': {string.Join("; ", problems)}. " +
              "Fix or drop the table, or load into another dataset name.";
    }
}
