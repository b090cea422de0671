using Lightfast.Cloud.Gateway.Conversations;
using Lightfast.Cloud.Gateway.Correlation;
using Lightfast.Cloud.Gateway.Errors;
using Lightfast.Cloud.Gateway.Hosting;
using Lightfast.Cloud.Gateway.Servers;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.AddLightfastOrleans();
builder.AddGatewayApi();
builder.AddServersFileImport();

var app = builder.Build();

app.UseCorrelationId();
app.UseGatewayErrors();

app.MapOpenApi();
app.MapDefaultEndpoints();
app.MapServersApi();
app.MapConversationsApi();

app.Run();

/// <summary>The gateway's entry point, visible to tests.</summary>
public partial class Program;
