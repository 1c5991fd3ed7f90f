namespace KmsFarm.Deploy.Tests;

/// <summary>The repository these tests were built from (the directory holding KmsFarm.sln).</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string PathOf(string relative) => Path.Combine(Root, relative);

    private static string FindRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "KmsFarm.sln")))
            {
                return dir.FullName;
            }
        }

        throw new InvalidOperationException("KmsFarm.sln not found above " + AppContext.BaseDirectory);
    }
}
