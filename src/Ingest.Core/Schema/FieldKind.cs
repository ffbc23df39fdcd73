namespace Ingest.Schema;

/// <summary>The value types a dataset field can have, each with its PostgreSQL column type.</summary>
public enum FieldKind
{
    /// <summary>A UUID (<c>uuid</c>).</summary>
    Uuid,

    /// <summary>An instant: Unix milliseconds or an ISO-8601 string, no offset meaning UTC (<c>timestamptz</c>).</summary>
    Timestamp,

    /// <summary>A finite double (<c>double precision</c>).</summary>
    Double,

    /// <summary>A signed 32-bit integer, -2^31..2^31-1 (<c>integer</c>).</summary>
    SignedNumber,

    /// <summary>An unsigned 32-bit integer, 0..2^32-1 (<c>bigint</c>).</summary>
    UnsignedNumber,

    /// <summary>An IPv4 address in dotted-quad form (<c>inet</c>).</summary>
    IPv4,

    /// <summary>One of a fixed list of strings (<c>text</c>).</summary>
    Enum,
}
