using Lightfast.Cloud.Hosting;
using Lightfast.Cloud.Silo;

var builder = WebApplication.CreateBuilder(args);

builder.AddServiceDefaults();
builder.RequireClusteringConfiguration();
builder.AddLightfastSilo();

var app = builder.Build();

app.MapDefaultEndpoints();

app.Run();
