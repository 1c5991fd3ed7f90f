namespace KmsFarm.Fuzz;

/// <summary>One fuzz target. <see cref="Run"/> returns normally for every input the code under test handles correctly,
/// including a clear rejection (an HRESULT, an RPC fault, a close, a <c>KmsProtocolException</c> on the client side);
/// any other exception escaping it, an endless loop or unbounded allocation is a finding.</summary>
internal interface IFuzzTarget
{
    string Name { get; }

    void Run(ReadOnlySpan<byte> input);
}
