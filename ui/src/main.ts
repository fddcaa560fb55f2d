import "./style.css";
import { startApp } from "./app";

const root = document.getElementById("app");
if (root) void startApp(root);
