/** The absolute path of the folder holding workbench.html, workbench.js and workbench.css. */
export declare const pageDir: string;
