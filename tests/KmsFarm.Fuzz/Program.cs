using System.Globalization;
using KmsFarm.Fuzz;
using SharpFuzz;

// Usage:
//   KmsFarm.Fuzz <target>                     run under afl-fuzz (in-process persistent mode, fuzz.sh sets it up)
//   KmsFarm.Fuzz replay <target> <path>...    run files (or every file of directories) once each, without afl
//   KmsFarm.Fuzz seeds <vectors dir> <out dir> write the seed corpus of every target from the recorded vectors
IFuzzTarget[] targets = [new ServerSessionTarget(), new KmsCodecTarget(), new ClientTarget()];
string names = string.Join(", ", targets.Select(t => t.Name));

if (args.Length == 3 && args[0] == "seeds")
{
    SeedCorpus.Write(args[1], args[2]);
    return 0;
}

if (args.Length >= 3 && args[0] == "replay")
{
    var target = targets.FirstOrDefault(t => t.Name == args[1]) ?? throw new ArgumentException("targets: " + names);
    return Replay(target, args.Skip(2));
}

if (args.Length == 1 && targets.FirstOrDefault(t => t.Name == args[0]) is { } fuzzed)
{
    var guard = new GrowthGuard();
    byte[] buffer = new byte[GrowthGuard.MaxInputLength + 1];
    Fuzzer.Run(stream =>
    {
        int length = 0;
        int read;
        while (length < buffer.Length && (read = stream.Read(buffer, length, buffer.Length - length)) > 0)
        {
            length += read;
        }

        guard.Run(fuzzed, buffer.AsSpan(0, Math.Min(length, GrowthGuard.MaxInputLength)));
    });
    return 0;
}

Console.Error.WriteLine("usage: KmsFarm.Fuzz <target> | replay <target> <path>... | seeds <vectors dir> <out dir>; targets: " + names);
return 2;

static int Replay(IFuzzTarget target, IEnumerable<string> paths)
{
    Outcomes.Enabled = true;
    var guard = new GrowthGuard();
    int files = 0;
    int failures = 0;
    foreach (string file in paths.SelectMany(p => Directory.Exists(p) ? Directory.GetFiles(p).Order(StringComparer.Ordinal) : (IEnumerable<string>)[p]))
    {
        files++;
        try
        {
            guard.Run(target, File.ReadAllBytes(file));
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            failures++;
            Console.WriteLine($"{file}: {e.GetType().Name}: {e.Message}");
            Console.WriteLine(e.StackTrace);
        }
    }

    Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"replay: target {target.Name}, inputs {files}, failures {failures}"));
    Console.WriteLine("outcomes: " + Outcomes.Summary());
    return failures == 0 ? 0 : 1;
}
