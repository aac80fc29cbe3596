namespace NetLab.Lab.Tests.Running;

internal static class RepoPaths
{
    /// <summary>The repository root (where NetLab.sln is), found from the test binary's folder.</summary>
    public static string Root
    {
        get
        {
            var dir = new DirectoryInfo(AppContext.BaseDirectory);
            while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NetLab.sln"))) dir = dir.Parent;
            return dir?.FullName ?? throw new InvalidOperationException("NetLab.sln not found above " + AppContext.BaseDirectory);
        }
    }

    public static string Scenario(string name) => Path.Combine(Root, "scenarios", name);

    public static string TempDir()
    {
        var d = Path.Combine(Path.GetTempPath(), "netlab-tests", Path.GetRandomFileName());
        Directory.CreateDirectory(d);
        return d;
    }
}
