namespace KmsFarm.Activation;

/// <summary>When a store calls a write done (<c>KmsFarm:Store:Durability</c>, <c>--durability</c>).</summary>
public enum StoreDurability
{
    /// <summary>The database has the write, without waiting for its disk flush (PostgreSQL <c>synchronous_commit = off</c>
    /// on the ledger transaction; SQLite WAL with <c>synchronous = NORMAL</c>). Killing any node loses nothing; a power
    /// loss of the database machine may lose the last moments of writes.</summary>
    Process,

    /// <summary>The write is flushed to disk before the answer (group commit amortizes the flush over a batch).</summary>
    Fsync,
}
