using System.Net;
using System.Net.Sockets;
using System.Reflection;

namespace Lightfast.Cloud.Testing;

/// <summary>Where things are in the checkout, and free loopback ports.</summary>
public static class Repository
{
    public static string Root { get; } = FindRoot();

    public static string McpServersDirectory => Path.Combine(Root, "tools", "mcp-servers");

    /// <summary>The build configuration the tests were built in (the host projects are built in the same one).</summary>
    public static string Configuration =>
        typeof(Repository).Assembly.GetCustomAttribute<AssemblyConfigurationAttribute>()?.Configuration ?? "Debug";

    public static string GatewayAssembly => HostAssembly("Lightfast.Cloud.Gateway");

    /// <summary>The built assembly of a host project under src/ (built before the tests by project reference).</summary>
    public static string HostAssembly(string project) =>
        Path.Combine(Root, "src", project, "bin", Configuration, "net10.0", project + ".dll");

    /// <summary>The entry script of an npm MCP server installed by <c>npm ci</c> in tools/mcp-servers.</summary>
    public static string NpmServerScript(string package)
    {
        var script = Path.Combine(McpServersDirectory, "node_modules", "@modelcontextprotocol", package, "dist", "index.js");
        return File.Exists(script)
            ? script
            : throw new InvalidOperationException($"{script} is missing: run 'npm ci' in {McpServersDirectory} (.ci/run does).");
    }

    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static string FindRoot()
    {
        var directory = new DirectoryInfo(AppContext.BaseDirectory);
        while (directory is not null && !File.Exists(Path.Combine(directory.FullName, "Lightfast.Cloud.sln")))
        {
            directory = directory.Parent;
        }

        return directory?.FullName ?? throw new InvalidOperationException("Lightfast.Cloud.sln not found above " + AppContext.BaseDirectory);
    }
}
