import "./style.css";
import "./panels.css";
import { startApp } from "./app";

const root = document.getElementById("app");
if (root) void startApp(root);
