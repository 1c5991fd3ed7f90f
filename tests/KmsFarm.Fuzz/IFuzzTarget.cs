namespace KmsFarm.Fuzz;

/// <summary>One fuzz target.</summary>
/// <remarks><see cref="Run"/> returns normally for every input the code under test handles correctly,
/// including a clear rejection (an HRESULT, an RPC fault, a close, a <c>KmsProtocolException</c> on the client side);
/// any other exception escaping it, an endless loop or unbounded allocation is a finding. Every input, even an empty
/// one, must run some protocol code: SharpFuzz may read the very first input before afl-fuzz has written it, and
/// afl-fuzz aborts ("No instrumentation detected") when that first run covers no instrumented edge.</remarks>
internal interface IFuzzTarget
{
    string Name { get; }

    void Run(ReadOnlySpan<byte> input);
}
