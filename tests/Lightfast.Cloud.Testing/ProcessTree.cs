using System.Diagnostics;
using System.Globalization;

namespace Lightfast.Cloud.Testing;

/// <summary>Looks at processes through /proc (Linux), to find the processes tests started and check that none are left.</summary>
public static class ProcessTree
{
    /// <summary>Direct children of a process.</summary>
    public static IReadOnlyList<int> ChildrenOf(int pid) =>
        [.. Processes().Where(candidate => ParentOf(candidate) == pid)];

    /// <summary>Processes whose environment holds <paramref name="name"/>=<paramref name="value"/> (a marker a test set).</summary>
    public static IReadOnlyList<int> WithEnvironment(string name, string value)
    {
        var marker = $"{name}={value}";
        return [.. Processes().Where(pid => Read(pid, "environ")?.Split('\0').Contains(marker, StringComparer.Ordinal) == true)];
    }

    /// <summary>The one process with the marker, once it exists.</summary>
    public static Task<int> WaitForOneWithEnvironmentAsync(string name, string value, TimeSpan timeout, int? other = null) =>
        Eventually.WaitAsync(
            () => Task.FromResult(WithEnvironment(name, value) is [var pid] && pid != other ? pid : 0),
            pid => pid != 0,
            $"a process with {name}={value}{(other is null ? string.Empty : $" other than {other}")}",
            timeout);

    public static bool IsAlive(int pid) => Read(pid, "stat") is { } stat && !stat[(stat.LastIndexOf(')') + 2)..].StartsWith('Z');

    /// <summary>SIGKILL, as a crash would.</summary>
    public static void Kill(int pid)
    {
        using var process = Process.GetProcessById(pid);
        process.Kill();
    }

    private static int? ParentOf(int pid) =>
        Read(pid, "stat") is { } stat
            ? int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1], CultureInfo.InvariantCulture)
            : null;

    private static IEnumerable<int> Processes()
    {
        foreach (var directory in Directory.EnumerateDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(directory), out var pid))
            {
                yield return pid;
            }
        }
    }

    private static string? Read(int pid, string file)
    {
        try
        {
            return File.ReadAllText($"/proc/{pid}/{file}");
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            return null; // the process ended while we looked, or is not ours
        }
    }
}
