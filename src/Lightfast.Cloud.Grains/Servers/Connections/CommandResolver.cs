namespace Lightfast.Cloud.Servers.Connections;

/// <summary>Finds the program a stdio server names, the way a shell would, so a missing one is reported clearly.</summary>
public static class CommandResolver
{
    /// <summary>The full path of <paramref name="command"/>, or null when it cannot be found.</summary>
    public static string? Resolve(string command, string? workingDirectory, IReadOnlyDictionary<string, string> environment)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(command);
        ArgumentNullException.ThrowIfNull(environment);
        if (command.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal) || command.Contains(Path.AltDirectorySeparatorChar, StringComparison.Ordinal))
        {
            var full = Path.IsPathRooted(command) ? command : Path.GetFullPath(command, workingDirectory ?? Environment.CurrentDirectory);
            return File.Exists(full) ? full : null;
        }

        var path = environment.TryGetValue("PATH", out var configured) ? configured : Environment.GetEnvironmentVariable("PATH");
        foreach (var directory in (path ?? string.Empty).Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            foreach (var candidate in Candidates(Path.Combine(directory, command)))
            {
                if (File.Exists(candidate))
                {
                    return candidate;
                }
            }
        }

        return null;
    }

    private static IEnumerable<string> Candidates(string path)
    {
        yield return path;
        if (OperatingSystem.IsWindows())
        {
            foreach (var extension in (Environment.GetEnvironmentVariable("PATHEXT") ?? ".EXE;.CMD;.BAT").Split(';', StringSplitOptions.RemoveEmptyEntries))
            {
                yield return path + extension.ToLowerInvariant();
            }
        }
    }
}
