using System.Security.Cryptography;

namespace NetLab.Real.Tests.RealLinux;

/// <summary>A temporary directory of test files (random content), deleted on Dispose.</summary>
internal sealed class TapFiles : IDisposable
{
    public const long HundredMegabytes = 100L * 1024 * 1024;

    public TapFiles()
    {
        Dir = Directory.CreateTempSubdirectory("nltap-").FullName;
        File.WriteAllText(Path.Combine(Dir, "index.html"), "<h1>NetLab</h1>\n");
    }

    public string Dir { get; }

    public string PathOf(string name) => System.IO.Path.Combine(Dir, name);

    /// <summary>Writes <paramref name="size"/> random bytes to NAME and returns its path.</summary>
    public string Random(string name, long size)
    {
        var path = PathOf(name);
        using var f = File.Create(path);
        var buf = new byte[1 << 20];
        for (long left = size; left > 0; left -= buf.Length)
        {
            RandomNumberGenerator.Fill(buf);
            f.Write(buf, 0, (int)Math.Min(buf.Length, left));
        }
        return path;
    }

    public static string Sha256(string path)
    {
        using var f = File.OpenRead(path);
        return Convert.ToHexStringLower(SHA256.HashData(f));
    }

    /// <summary>Bytes per second as MB/s (10^6), for the test output.</summary>
    public static string MegabytesPerSecond(double bytesPerSecond) =>
        (bytesPerSecond / 1e6).ToString("0.0", System.Globalization.CultureInfo.InvariantCulture) + " MB/s";

    /// <summary>Measured figures go to the console, which ./test shows, as well as to the test's own output.</summary>
    public static void Report(string line)
    {
        TestContext.Current.TestOutputHelper?.WriteLine(line);
        Console.WriteLine($"    [measured] {line}");
    }

    public void Dispose() => Directory.Delete(Dir, recursive: true);
}
