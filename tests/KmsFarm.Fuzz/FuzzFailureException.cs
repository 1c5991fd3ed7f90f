namespace KmsFarm.Fuzz;

/// <summary>A target's oracle failed: thrown out of the target so that afl-fuzz records the input as a crash.</summary>
public sealed class FuzzFailureException : Exception
{
    public FuzzFailureException()
    {
    }

    public FuzzFailureException(string message)
        : base(message)
    {
    }

    public FuzzFailureException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>Assertions for fuzz targets (no test framework in the harness).</summary>
internal static class Check
{
    public static void That(bool condition, string message)
    {
        if (!condition)
        {
            throw new FuzzFailureException(message);
        }
    }
}
