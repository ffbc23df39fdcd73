namespace Ingest.Validation;

/// <summary>Why a row was skipped (SPEC §2, row errors).</summary>
public enum RowErrorKind
{
    /// <summary>A mapped column is beyond the row's field count.</summary>
    MissingColumn,

    /// <summary>NULL (an empty field) in a required or non-nullable field.</summary>
    NullNotAllowed,

    /// <summary>The value does not parse as the field's type.</summary>
    NotParsable,

    /// <summary>Longitude or latitude out of range, or a number out of its 32-bit range.</summary>
    OutOfRange,

    /// <summary>A value that is not an IPv4 address.</summary>
    BadIPv4,

    /// <summary>An enum value not in the field's <c>values</c>.</summary>
    NotInEnum,
}
