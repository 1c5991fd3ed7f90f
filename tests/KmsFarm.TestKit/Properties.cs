using FsCheck;
using Microsoft.FSharp.Collections;
using Microsoft.FSharp.Core;
using Xunit;

namespace KmsFarm.TestKit;

/// <summary>Runs an FsCheck property from a plain xunit fact: the result line ("Ok, passed 300 tests." or the
/// counter-example with its replay seed) goes to the test's output, and a failure fails the test.</summary>
public static class Properties
{
    /// <summary>How many cases a property tries unless it says otherwise.</summary>
    public const int DefaultMaxTest = 300;

    public static void Check(string name, Property property, int maxTest = DefaultMaxTest)
    {
        ArgumentNullException.ThrowIfNull(property);
        var config = Config.Quick.WithName(name).WithMaxTest(maxTest).WithRunner(new OutputRunner());
        FsCheck.Check.One(config, property);
    }

    private sealed class OutputRunner : IRunner
    {
        public void OnStartFixture(Type t)
        {
        }

        public void OnArguments(int ntest, FSharpList<object> args, FSharpFunc<int, FSharpFunc<FSharpList<object>, string>> every)
        {
        }

        public void OnShrink(FSharpList<object> args, FSharpFunc<FSharpList<object>, string> everyShrink)
        {
        }

        public void OnFinished(string name, FsCheck.TestResult testResult)
        {
            string text = Runner.onFinishedToString(name, testResult);
            TestContext.Current.TestOutputHelper?.WriteLine(text);
            if (!testResult.IsPassed)
            {
                throw new PropertyFailedException(text);
            }
        }
    }
}

/// <summary>A property found a counter-example; the message is FsCheck's report with the replay seed.</summary>
public sealed class PropertyFailedException : Exception
{
    public PropertyFailedException()
    {
    }

    public PropertyFailedException(string message)
        : base(message)
    {
    }

    public PropertyFailedException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
