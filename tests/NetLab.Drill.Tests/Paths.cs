namespace NetLab.Drill.Tests;

/// <summary>Where the repository and the shared packetdrill scripts are, found from the test binary upward.</summary>
internal static class Paths
{
    public static string RepoRoot { get; } = FindRoot();

    /// <summary>../shared/packetdrill beside the repository (the scripts are test data, not copied into the repo).</summary>
    public static string PacketdrillDir => Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "packetdrill"));

    private static string FindRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !File.Exists(Path.Combine(dir.FullName, "NetLab.sln"))) dir = dir.Parent;
        return dir?.FullName ?? throw new InvalidOperationException("NetLab.sln not found above the test binary");
    }
}
