namespace KmsFarm.TestKit;

/// <summary>Files of the repository itself (deploy/, dashboards/, docs/) for tests that check them: found by walking up
/// from the test's output folder to the directory holding KmsFarm.sln.</summary>
public static class RepositoryPaths
{
    private static readonly Lazy<string> RootPath = new(FindRoot);

    /// <summary>The repository's root directory.</summary>
    public static string Root => RootPath.Value;

    /// <summary><paramref name="relative"/> (with '/' separators) under the root.</summary>
    public static string Combine(string relative) => Path.Combine(Root, relative.Replace('/', Path.DirectorySeparatorChar));

    private static string FindRoot()
    {
        for (var directory = new DirectoryInfo(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "KmsFarm.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException(
            $"No KmsFarm.sln above {AppContext.BaseDirectory}: the tests must run from a build in the repository.");
    }
}
