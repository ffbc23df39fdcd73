namespace Ingest;

/// <summary>What cancelling the token of <see cref="IngestEngine.ImportAsync"/> does to the batch.</summary>
public enum CancellationMode
{
    /// <summary>The batch ends <c>aborted</c>, as if <see cref="IngestEngine.AbortAsync"/> was called: files in flight roll back.</summary>
    Abort,

    /// <summary>
    /// The run stops and the batch stays resumable, as after a crash but tidily: files in flight roll back, the log
    /// says the run was interrupted, and the status stays <c>started</c> with no live run, so the same batch id run
    /// again (by hand or by a supervisor) loads the rest. For hosts stopped by SIGTERM or Ctrl+C.
    /// </summary>
    Interrupt,
}
