namespace Ingest.Sources;

/// <summary>How a source file's bytes are compressed, told by its name (<c>.gz</c>, <c>.zst</c>) or its response.</summary>
internal enum SourceCompression
{
    /// <summary>Plain bytes.</summary>
    None,

    /// <summary>gzip (RFC 1952), one member or several.</summary>
    Gzip,

    /// <summary>Zstandard (RFC 8878), one frame or several.</summary>
    Zstd,
}
