using System.Text.Json;
using System.Text.Json.Nodes;
using Ingest.Status;

namespace Ingest.Cli.Commands;

/// <summary>The machine-readable outcome of <c>ingest import --json</c>.</summary>
internal static class ResultJson
{
    // Relaxed escaping, as the status JSON: reasons quote values ('x' is not a UUID), readable as written.
    internal static readonly JsonSerializerOptions Indented = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    /// <summary>
    /// The same shape for a run that could not start a batch (the database out of reach): status <c>error</c>, nothing
    /// loaded, so a script reading <c>--json</c> always gets an object to parse.
    /// </summary>
    public static string SerializeNotStarted(Guid? batchId, int filesTotal, string error) => new JsonObject
    {
        ["batchId"] = batchId?.ToString(),
        ["status"] = "error",
        ["interrupted"] = false,
        ["insertCount"] = 0,
        ["invalidCount"] = 0,
        ["filesLoaded"] = 0,
        ["filesTotal"] = filesTotal,
        ["error"] = Redactor.RedactText(error),
        ["rowErrors"] = new JsonArray(),
    }.ToJsonString(Indented);

    public static string Serialize(BatchResult result)
    {
        var rowErrors = new JsonArray();
        foreach (var e in result.RowErrors.Take(100))
        {
            rowErrors.Add((JsonNode)new JsonObject { ["file"] = e.FileKey, ["line"] = e.Line, ["field"] = e.Field, ["reason"] = e.Reason });
        }

        return new JsonObject
        {
            ["batchId"] = result.BatchId.ToString(),
            ["status"] = result.Status.ToWord(),
            ["interrupted"] = result.Interrupted, // stopped by a signal: the batch stays 'started', to resume with the same id
            ["insertCount"] = result.InsertCount,
            ["invalidCount"] = result.InvalidCount,
            ["filesLoaded"] = result.FilesLoaded,
            ["filesTotal"] = result.FilesTotal,
            ["error"] = result.Error,
            ["rowErrors"] = rowErrors,
        }.ToJsonString(Indented);
    }

    /// <summary>The dry-run result of SPEC §4: <c>{"status", "report", "log"}</c>.</summary>
    public static string Serialize(DryRunResult result) => new JsonObject
    {
        ["status"] = result.Status,
        ["report"] = result.Report,
        ["log"] = result.Log,
    }.ToJsonString(Indented);
}
