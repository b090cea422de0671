using System.Diagnostics;
using System.Globalization;
using Lightfast.Cloud.Hosting;
using Lightfast.Cloud.Servers;
using Lightfast.Cloud.Testing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

// Side-by-side runs against real server-everything processes (stdio) in a local silo, each measured against
// its baseline in the same process:
//   1. N tool calls that each take D seconds, concurrently over one server's one connection, against the same
//      N calls made one after another. Concurrent / sequential should be close to 1/N.
//   2. Starting N servers with the registry's start-all, against starting one. Should be close to 1, not N.
// Usage: dotnet run -c Release --project tests/Lightfast.Cloud.Benchmarks [-- calls seconds servers]
var calls = args.Length > 0 ? int.Parse(args[0], CultureInfo.InvariantCulture) : 8;
var seconds = args.Length > 1 ? double.Parse(args[1], CultureInfo.InvariantCulture) : 1.0;
var servers = args.Length > 2 ? int.Parse(args[2], CultureInfo.InvariantCulture) : 4;

string everything;
try
{
    everything = Repository.NpmServerScript("server-everything");
}
catch (InvalidOperationException ex)
{
    Console.Error.WriteLine(ex.Message);
    return 1;
}

var builder = Host.CreateApplicationBuilder();
builder.Logging.SetMinimumLevel(LogLevel.Warning);
builder.Configuration.AddInMemoryCollection(new Dictionary<string, string?>
{
    ["Orleans:Endpoints:SiloPort"] = Repository.FreePort().ToString(CultureInfo.InvariantCulture),
    ["Orleans:Endpoints:GatewayPort"] = Repository.FreePort().ToString(CultureInfo.InvariantCulture),
    ["Lightfast:Registry:MaxConcurrency"] = Math.Max(servers, 1).ToString(CultureInfo.InvariantCulture),
});
builder.AddLocalLightfastSilo();
using var host = builder.Build();
await host.StartAsync();
var grains = host.Services.GetRequiredService<IGrainFactory>();

ServerDefinition Everything(string name) => new()
{
    Name = name,
    Transport = McpTransportKind.Stdio,
    Command = "node",
    Args = [everything, "stdio"],
};

// 1. Concurrent tool calls over one connection.
var registry = grains.GetGrain<IServerRegistryGrain>("calls");
await registry.AddServerAsync(Everything("calls"));
var server = grains.GetGrain<IMcpServerGrain>("calls");
var arguments = $$"""{"duration":{{seconds.ToString(CultureInfo.InvariantCulture)}},"steps":1}""";
await server.CallToolAsync("trigger-long-running-operation", arguments); // warm-up

var sequential = Stopwatch.StartNew();
for (var i = 0; i < calls; i++)
{
    await server.CallToolAsync("trigger-long-running-operation", arguments);
}

sequential.Stop();
var concurrent = Stopwatch.StartNew();
await Task.WhenAll(Enumerable.Range(0, calls).Select(_ => server.CallToolAsync("trigger-long-running-operation", arguments)));
concurrent.Stop();
await registry.StopAllAsync();

// 2. Starting several servers against starting one.
var single = grains.GetGrain<IServerRegistryGrain>("start-one");
await single.ImportAsync([Everything("warm-up")]);
await single.StopAllAsync();
var one = Stopwatch.StartNew();
await single.StartAllAsync();
one.Stop();

var many = grains.GetGrain<IServerRegistryGrain>("start-many");
await many.ImportAsync([.. Enumerable.Range(0, servers).Select(i => Everything($"start-{i}") with { Enabled = true })]);
await many.StopAllAsync();
var all = Stopwatch.StartNew();
var started = await many.StartAllAsync();
all.Stop();
await many.StopAllAsync();
await single.StopAllAsync();
await host.StopAsync();

Console.WriteLine($"| run | baseline | measured | ratio | ideal |");
Console.WriteLine($"|---|---|---|---|---|");
Console.WriteLine($"| {calls} calls of {seconds} s: concurrent vs sequential | {sequential.ElapsedMilliseconds} ms | {concurrent.ElapsedMilliseconds} ms | {(double)concurrent.ElapsedMilliseconds / sequential.ElapsedMilliseconds:0.000} | {1.0 / calls:0.000} |");
Console.WriteLine($"| start-all of {servers} stdio servers vs 1 | {one.ElapsedMilliseconds} ms | {all.ElapsedMilliseconds} ms | {(double)all.ElapsedMilliseconds / one.ElapsedMilliseconds:0.00} | 1 (sequential would be {servers}) |");
return started.All(r => r.Succeeded) ? 0 : 2;
