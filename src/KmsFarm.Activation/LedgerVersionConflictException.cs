using KmsFarm.Protocol.Catalog;

namespace KmsFarm.Activation;

/// <summary>A commit named a version the group is no longer at: another writer committed since this one loaded (during a
/// membership change the farm can briefly run two). Nothing was written; the writer must reload before it answers anyone.</summary>
public sealed class LedgerVersionConflictException : Exception
{
    public LedgerVersionConflictException()
    {
    }

    public LedgerVersionConflictException(string message)
        : base(message)
    {
    }

    public LedgerVersionConflictException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public LedgerVersionConflictException(ProductGroup group, long expectedVersion)
        : base($"The ledger of {group} is no longer at version {expectedVersion}: another writer committed since it was loaded.")
    {
        Group = group;
        ExpectedVersion = expectedVersion;
    }

    public ProductGroup? Group { get; }

    public long ExpectedVersion { get; }
}
