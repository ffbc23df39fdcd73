namespace Ingest.Engine.Loading;

/// <summary>
/// What the pieces of one unit of work have added to the batch's live counts, across the unit's attempts. A new
/// attempt adds only rows beyond what an earlier one showed, so a file read again from its start (a server that
/// cannot resume, a connection lost) does not make the counts go down and up again; a piece's end settles its
/// share: its committed counts, or none when it did not commit. Used from the unit's own thread only.
/// </summary>
internal sealed class ShownCounts(ILoadSite site)
{
    private readonly Dictionary<string, (long Inserted, long Invalid)> _shown = new(StringComparer.Ordinal);

    /// <summary>An attempt of <paramref name="piece"/> has read this far: anything beyond what it showed before is shown.</summary>
    public void Grow(string piece, long inserted, long invalid)
    {
        var shown = _shown.GetValueOrDefault(piece);
        var (dInserted, dInvalid) = (Math.Max(0, inserted - shown.Inserted), Math.Max(0, invalid - shown.Invalid));
        if (dInserted != 0 || dInvalid != 0)
        {
            _shown[piece] = (shown.Inserted + dInserted, shown.Invalid + dInvalid);
            site.Progress(dInserted, dInvalid);
        }
    }

    /// <summary>
    /// <paramref name="pieces"/> ended with these counts in the database (committed now or before, summed over them;
    /// 0 for none): the live counts get the difference from what they showed, and the pieces are done.
    /// </summary>
    public void Settle(IEnumerable<string> pieces, long inserted, long invalid)
    {
        foreach (var piece in pieces)
        {
            if (_shown.Remove(piece, out var shown))
            {
                (inserted, invalid) = (inserted - shown.Inserted, invalid - shown.Invalid);
            }
        }

        if (inserted != 0 || invalid != 0)
        {
            site.Progress(inserted, invalid);
        }
    }

    /// <summary>The unit ends without committing what is still shown: those rows never reached the dataset, so they are taken back.</summary>
    public void TakeBackAll() => Settle([.. _shown.Keys], 0, 0);
}
