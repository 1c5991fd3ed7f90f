namespace KmsFarm.Protocol.Catalog;

/// <summary>An inclusive range of CSVLK key ids. A CSVLK's valid key ids are a set of such blocks with holes between.</summary>
public readonly record struct KeyBlock(int First, int Last)
{
    /// <summary>How many key ids the block holds.</summary>
    public long Count => (long)Last - First + 1;

    public bool Contains(int keyId) => keyId >= First && keyId <= Last;
}
